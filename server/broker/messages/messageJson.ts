import { isUtf8 } from 'node:buffer';
import { redactBody, redactHeader } from '../redact/redaction.ts';
import type { StoredMessage } from './messageModel.ts';

/** A body as the API shows it: `body` when it is UTF-8 text, `bodyBase64` otherwise. */
export function bodyFields(body: Buffer, names: [text: string, base64: string] = ['body', 'bodyBase64']): Record<string, string> {
  if (body.length === 0) return {};
  return isUtf8(body) ? { [names[0]]: body.toString('utf8') } : { [names[1]]: body.toString('base64') };
}

/** The SDK's `Message` shape (times in ms), redacted as published. Undefined fields vanish in JSON. */
export function messageJson(m: StoredMessage) {
  return {
    messageId: m.id,
    url: m.url,
    topicName: m.topicName,
    endpointName: m.endpointName,
    method: m.method,
    header: redactHeader(m.header, m.redact),
    ...bodyFields(redactBody(m.body, m.redact)),
    maxRetries: m.maxRetries,
    retried: m.retried,
    retryDelayExpression: m.retryDelay,
    notBefore: m.notBefore,
    createdAt: m.createdAt,
    callback: m.callback,
    failureCallback: m.failureCallback,
    queueName: m.queueName,
    scheduleId: m.scheduleId,
    callerIP: m.callerIp,
    callerIp: m.callerIp,
    label: m.labels[0],
    labels: m.labels.length > 0 ? m.labels : undefined,
    flowControlKey: m.flow?.key,
    parallelism: m.flow?.parallelism,
    rate: m.flow?.rate,
    period: m.flow?.period,
    timeout: m.timeoutMs,
    state: m.state,
  };
}
