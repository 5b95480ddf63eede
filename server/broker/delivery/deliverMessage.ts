import type { Logger } from 'pino';
import type { Executor, Queryable } from '../db/executor.ts';
import { insertMessage } from '../messages/insertMessage.ts';
import type { StoredMessage } from '../messages/messageModel.ts';
import { markScheduleState, moveToDlq, removeDelivered, rescheduleMessage, type AttemptResult, type Settle } from '../messages/settleMessage.ts';
import { headerValue, retryAfterMs, retryDelayMs } from './backoff.ts';
import type { CallbackPolicy } from '../../security/checkCallbackUrl.ts';
import type { PrivateCallbacks } from '../../security/addressRanges.ts';
import { callbackBody, callbackSpec } from './callbackMessage.ts';
import { CallbackRefusedError, guardCallback } from './callbackGuard.ts';
import { sendRequest } from './sendRequest.ts';
import { BrokerError } from '../errors.ts';
import { cancelMessages, getMessage } from '../messages/messageQueries.ts';
import { bindToRun, recordStep } from '../workflows/bindToRun.ts';
import { failWorkflowRun, noteFailureCallback, workflowCallbackFields } from '../workflows/failWorkflowRun.ts';
import { prepareWorkflowDelivery } from '../workflows/workflowDelivery.ts';
import { signDelivery } from './signDelivery.ts';

export interface DeliveryContext {
  db: Executor;
  now(): number;
  signingKey(): string;
  defaultTimeoutMs: number;
  logger: Logger;
  /** Aborted by `stop()`: the attempt is abandoned and redelivered after a restart. */
  signal: AbortSignal;
  /** Hands messages created while settling (callbacks) to the dispatcher, after commit. */
  onCreated(messages: StoredMessage[]): void;
  /** Records a plain delivered message (see `removeDelivered`), group-committed with concurrent ones; false when it was gone. */
  settleDelivered(settle: Settle): Promise<boolean>;
  /** Which addresses callbacks may reach (destinations are not checked: they include this server's own worker routes). */
  callbacks: CallbackPolicy & { privateAddresses: PrivateCallbacks };
}

/** An attempt's result; `permanent` when retrying cannot change it (a refused callback address). */
type Attempt = AttemptResult & { permanent?: boolean };

export type AttemptOutcome =
  | { kind: 'gone' }
  | { kind: 'abandoned' }
  | { kind: 'delivered' }
  | { kind: 'retry'; dueAt: number }
  | { kind: 'failed'; dlqId: string | undefined };

// Hop-by-hop and framing headers are the transport's business, never the publisher's.
const UNFORWARDABLE = new Set(['content-length', 'host', 'connection', 'transfer-encoding', 'keep-alive', 'upgrade', 'te', 'trailer']);

/**
 * One attempt: call the destination, then record the outcome durably, ACTIVE included, in one write
 * transaction. `cached` is the message as just stored, which spares reading it back; without it
 * the message is read (gone: cancelled meanwhile). Nothing is written before the attempt: a crash
 * mid-attempt leaves the message pending and it is attempted again after a restart.
 */
export async function deliverMessage(ctx: DeliveryContext, id: string, cached?: StoredMessage): Promise<AttemptOutcome> {
  const message = cached ?? (await getMessage(ctx.db, id));
  if (!message) return { kind: 'gone' };
  const startedAt = ctx.now();
  const prepared = await prepareWorkflowDelivery(ctx.db, message);
  if ('obsolete' in prepared) {
    await cancelMessages(ctx.db, { where: 'id = $1', params: [message.id] }, ctx.now());
    return { kind: 'gone' };
  }
  const result = await callDestination(ctx, message, prepared);
  if (ctx.signal.aborted) return { kind: 'abandoned' };
  // No per-delivery child logger: at info level this line costs nothing.
  ctx.logger.debug({ messageId: message.id, attempt: message.retried, status: result.status, error: result.error }, '[broker] Delivery attempt finished');
  return settleAttempt(ctx, { message, result, startedAt, now: ctx.now() });
}

async function callDestination(ctx: DeliveryContext, message: StoredMessage, prepared: { body: Buffer; headers: Record<string, string> }): Promise<Attempt> {
  const headers: Record<string, string> = {};
  for (const [name, values] of Object.entries(message.header)) {
    if (!UNFORWARDABLE.has(name.toLowerCase())) headers[name] = values.join(', ');
  }
  Object.assign(headers, prepared.headers);
  const body = prepared.body;
  headers['User-Agent'] = 'Upstash-QStash';
  headers['Upstash-Message-Id'] = message.id;
  headers['Upstash-Retried'] = String(message.retried);
  if (message.scheduleId) headers['Upstash-Schedule-Id'] = message.scheduleId;
  if (message.topicName) headers['Upstash-Topic-Name'] = message.topicName;
  if (message.callerIp) headers['Upstash-Caller-Ip'] = message.callerIp;
  headers['Upstash-Signature'] = signDelivery({ key: ctx.signingKey(), url: message.url, body, nowMs: ctx.now() });
  try {
    const isCallback = message.kind !== 'message';
    const response = await sendRequest({
      url: message.url,
      method: message.method,
      headers,
      body,
      timeoutMs: message.timeoutMs ?? ctx.defaultTimeoutMs,
      signal: ctx.signal,
      lookup: isCallback ? guardCallback(message.url, ctx.callbacks) : undefined,
    });
    return { status: response.status, header: response.header, body: response.body };
  } catch (error) {
    const refused = error instanceof CallbackRefusedError;
    if (refused) ctx.logger.warn({ messageId: message.id, reason: error.message }, '[broker] Callback refused');
    return { header: {}, body: Buffer.alloc(0), error: error instanceof Error ? error.message : String(error), permanent: refused };
  }
}

async function settleAttempt(ctx: DeliveryContext, settle: Settle & { result: Attempt }): Promise<AttemptOutcome> {
  const { message, result, now } = settle;
  const status = result.status ?? 0;
  if (status >= 200 && status < 300) {
    // The common case is one row in a group-committed statement; callbacks and schedule bookkeeping need a transaction.
    if (!message.callback && !message.scheduleId) {
      await ctx.settleDelivered(settle);
      return { kind: 'delivered' };
    }
    const created = await ctx.db.transaction(async (tx) => {
      const [removed] = await removeDelivered(tx, [settle]);
      if (!removed) return [];
      await markScheduleState(tx, message, 'SUCCESS');
      return publishCallbacks(tx, message, result, { now, success: true });
    });
    ctx.onCreated(created);
    return { kind: 'delivered' };
  }
  const nonRetryable = result.permanent === true || (status === 489 && headerValue(result.header, 'upstash-nonretryable-error')?.toLowerCase() === 'true');
  if (!nonRetryable && message.retried < message.maxRetries) {
    const dueAt = now + (retryAfterMs(result.header, now) ?? retryDelayMs(message.retryDelay, message.retried));
    await rescheduleMessage(ctx.db, settle, dueAt);
    return { kind: 'retry', dueAt };
  }
  let dlqId: string | undefined;
  const created = await ctx.db.transaction(async (tx) => {
    dlqId = await moveToDlq(tx, settle);
    if (dlqId === undefined) return [];
    await markScheduleState(tx, message, 'FAIL');
    await failWorkflowRun(tx, message, dlqId, now);
    return publishCallbacks(tx, message, result, { now, success: false, dlqId });
  });
  ctx.onCreated(created);
  return { kind: 'failed', dlqId };
}

/**
 * Callback semantics (documented in docs/broker.md): `Upstash-Callback` fires once per message, after
 * its final outcome (success, or failure after the last retry), never after intermediate failed
 * attempts; `Upstash-Failure-Callback` fires only on final failure and carries `dlqId`.
 */
async function publishCallbacks(
  tx: Queryable,
  message: StoredMessage,
  result: AttemptResult,
  outcome: { now: number; success: boolean; dlqId?: string },
): Promise<StoredMessage[]> {
  const created: StoredMessage[] = [];
  const workflowFields = await workflowCallbackFields(tx, message);
  const publish = async (kind: 'callback' | 'failure_callback', url: string, dlqId?: string) => {
    const settings = kind === 'callback' ? message.callbackOptions.callback : message.callbackOptions.failureCallback;
    const body = callbackBody(message, result, { dlqId, ...workflowFields });
    const unbound = callbackSpec({ message, kind, url, settings, body, now: outcome.now });
    const explicit = { retries: settings?.retries !== undefined, retryDelay: settings?.retryDelay !== undefined, timeout: settings?.timeoutMs !== undefined };
    // A context.call result continues its run; if the run ended meanwhile there is nothing to continue.
    const binding = await bindToRun(tx, unbound, explicit, outcome.now).catch((error: unknown) => {
      if (error instanceof BrokerError) return undefined;
      throw error;
    });
    if (!binding || 'duplicateOf' in binding) return;
    const inserted = await insertMessage(tx, binding.spec, { now: outcome.now, dueAt: binding.spec.notBefore });
    if (inserted.deduplicated) return;
    await recordStep(tx, inserted.message);
    if (kind === 'failure_callback') await noteFailureCallback(tx, message, inserted.message, result);
    created.push(inserted.message);
  };
  if (message.callback) await publish('callback', message.callback);
  if (!outcome.success && message.failureCallback) await publish('failure_callback', message.failureCallback, outcome.dlqId);
  return created;
}
