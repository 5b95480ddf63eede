import { dispatchCreated, type BrokerContext } from '../brokerContext.ts';
import type { Queryable } from '../db/executor.ts';
import { insertMessage, type InsertOutcome } from '../messages/insertMessage.ts';
import type { MessageSpec, StoredMessage } from '../messages/messageModel.ts';
import { ensureQueue } from '../queues/queueStore.ts';
import { dedupKey } from './dedupKey.ts';
import type { HeaderMap } from './headerMap.ts';
import { parseMessageOptions } from './parseMessageOptions.ts';
import { resolveDestinations } from './resolveDestinations.ts';
import { validateName } from './validateUrl.ts';
import { bindToRun, recordStep } from '../workflows/bindToRun.ts';

export interface PublishInput {
  /** The raw destination: URL (query string included) or URL-group name. */
  destination: string;
  headers: HeaderMap;
  body: Buffer;
  queueName?: string | undefined;
  callerIp?: string | undefined;
}

export interface PublishResult {
  messageId: string;
  url: string;
  deduplicated?: boolean;
}

/**
 * Validates and stores one publish (fan-out for URL groups). Everything is parsed before anything is
 * written, so a bad request stores nothing. Returns one result per target.
 */
export async function publishMessage(ctx: BrokerContext, input: PublishInput): Promise<{ results: PublishResult[]; isGroup: boolean }> {
  const options = parseMessageOptions(input.headers);
  const queueName = input.queueName === undefined ? undefined : validateName(input.queueName, 'queue name');
  const { targets, isGroup } = await resolveDestinations(ctx.db, input.destination);
  const now = ctx.now();
  const notBefore = options.notBeforeMs ?? now + options.delayMs;
  const { delayMs: _delay, notBeforeMs: _notBefore, ...rest } = options;
  const explicit = { retries: input.headers.has('upstash-retries'), retryDelay: input.headers.has('upstash-retry-delay'), timeout: input.headers.has('upstash-timeout') };
  const results: PublishResult[] = [];
  const created: StoredMessage[] = [];
  for (const target of targets) {
    const spec: MessageSpec = { ...rest, ...target, kind: 'message', body: input.body, queueName, notBefore, callerIp: input.callerIp };
    const key = dedupKey(input.headers, spec);
    const store = async (tx: Queryable): Promise<InsertOutcome> => {
      if (queueName) await ensureQueue(tx, queueName, now);
      const binding = await bindToRun(tx, spec, explicit, now);
      if ('duplicateOf' in binding) return { deduplicated: true, messageId: binding.duplicateOf };
      const inserted = await insertMessage(tx, binding.spec, { now, dueAt: notBefore, dedupKey: key });
      if (!inserted.deduplicated) await recordStep(tx, inserted.message);
      return inserted;
    };
    const outcome = key || queueName || spec.workflow ? await ctx.db.transaction(store) : await store(ctx.db);
    if (outcome.deduplicated) {
      results.push({ messageId: outcome.messageId, url: target.url, deduplicated: true });
    } else {
      results.push({ messageId: outcome.message.id, url: target.url });
      created.push(outcome.message);
    }
  }
  dispatchCreated(ctx, created);
  return { results, isGroup };
}
