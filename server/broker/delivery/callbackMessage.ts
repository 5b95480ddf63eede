import type { CallbackSettings, MessageSpec, StoredMessage } from '../messages/messageModel.ts';
import type { AttemptResult } from '../messages/settleMessage.ts';
import { callbackRedaction } from '../redact/redaction.ts';

/**
 * The JSON body QStash posts to callbacks (protocol doc §3); failure callbacks add `dlqId`, and a
 * workflow run's add `workflowRunId`, `workflowUrl`, `workflowCreatedAt` and the run's initial body
 * as `sourceBody` (what the SDK's failure function receives as its payload).
 */
export function callbackBody(message: StoredMessage, result: AttemptResult, extra: { dlqId?: string | undefined } & Record<string, unknown> = {}): Buffer {
  const { dlqId, ...workflowFields } = extra;
  const body = {
    status: result.status ?? 0,
    header: result.header,
    body: result.body.toString('base64'),
    retried: message.retried,
    maxRetries: message.maxRetries,
    sourceMessageId: message.id,
    topicName: message.topicName,
    endpointName: message.endpointName,
    url: message.url,
    method: message.method,
    sourceHeader: message.header,
    sourceBody: message.body.toString('base64'),
    notBefore: message.notBefore,
    createdAt: message.createdAt,
    scheduleId: message.scheduleId,
    callerIP: message.callerIp,
    ...(result.error === undefined ? {} : { error: result.error }),
    ...(dlqId === undefined ? {} : { dlqId }),
    ...workflowFields,
  };
  return Buffer.from(JSON.stringify(body));
}

/** A callback is itself a signed message; it inherits retry settings unless `Upstash-Callback-*` overrides them. */
export function callbackSpec(input: {
  message: StoredMessage;
  kind: 'callback' | 'failure_callback';
  url: string;
  settings: CallbackSettings | undefined;
  body: Buffer;
  now: number;
}): MessageSpec {
  const { message, settings } = input;
  return {
    kind: input.kind,
    url: input.url,
    method: settings?.method ?? 'POST',
    header: { ...(settings?.header ?? {}), 'Content-Type': ['application/json'] },
    body: input.body,
    maxRetries: settings?.retries ?? message.maxRetries,
    retryDelay: settings?.retryDelay ?? message.retryDelay,
    timeoutMs: settings?.timeoutMs ?? message.timeoutMs,
    notBefore: input.now + (settings?.delayMs ?? 0),
    callbackOptions: {},
    labels: message.labels,
    callerIp: message.callerIp,
    redact: callbackRedaction(message.redact),
    workflow: input.settings?.workflow,
  };
}
