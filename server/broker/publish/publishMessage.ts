import { dispatchCreated, type BrokerContext } from '../brokerContext.ts';
import type { Queryable } from '../db/executor.ts';
import { BrokerError } from '../errors.ts';
import { insertMessages, type InsertOutcome, type NewMessage } from '../messages/insertMessage.ts';
import type { MessageSpec, StoredMessage } from '../messages/messageModel.ts';
import { dedupKey } from './dedupKey.ts';
import type { HeaderMap } from './headerMap.ts';
import { parseMessageOptions } from './parseMessageOptions.ts';
import { resolveDestinations } from './resolveDestinations.ts';
import { validateName } from './validateUrl.ts';
import { bindToRun, recordStep, type ExplicitOptions } from '../workflows/bindToRun.ts';

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

/** One publish, parsed and resolved: a message per target, nothing written yet. */
export interface PreparedPublish {
  items: (NewMessage & { explicit: ExplicitOptions })[];
  isGroup: boolean;
}

/** Validates one publish and resolves its targets (fan-out for URL groups); a bad request throws a 4xx. */
export async function preparePublish(ctx: BrokerContext, input: PublishInput): Promise<PreparedPublish> {
  const options = parseMessageOptions(input.headers);
  const queueName = input.queueName === undefined ? undefined : validateName(input.queueName, 'queue name');
  const { targets, isGroup } = await resolveDestinations(ctx.db, input.destination);
  const notBefore = options.notBeforeMs ?? ctx.now() + options.delayMs;
  const { delayMs: _delay, notBeforeMs: _notBefore, ...rest } = options;
  const explicit = { retries: input.headers.has('upstash-retries'), retryDelay: input.headers.has('upstash-retry-delay'), timeout: input.headers.has('upstash-timeout') };
  const items = targets.map((target) => {
    const spec: MessageSpec = { ...rest, ...target, kind: 'message', body: input.body, queueName, notBefore, callerIp: input.callerIp };
    return { spec, dueAt: notBefore, dedupKey: dedupKey(input.headers, spec), explicit };
  });
  return { items, isGroup };
}

/**
 * Stores prepared publishes (one request's, or a whole /v2/batch) as one write transaction and
 * hands the new messages to the dispatcher; answers per publish its results, or the 4xx that
 * refused it. Plain messages go through the broker's group commit (one multi-row statement shared
 * with concurrent publishes); a call carrying workflow messages runs in one transaction that binds
 * each to its run.
 */
export async function storePublishes(ctx: BrokerContext, publishes: readonly PreparedPublish[]): Promise<(PublishResult[] | BrokerError)[]> {
  const items = publishes.flatMap((p) => p.items);
  const outcomes: (InsertOutcome | BrokerError)[] = items.some((i) => i.spec.workflow)
    ? await ctx.db.transaction((tx) => storeWorkflowItems(tx, items, ctx.now()))
    : await ctx.accept.submit(items);
  const created: StoredMessage[] = [];
  let next = 0;
  const results = publishes.map((p) => {
    const mine = outcomes.slice(next, (next += p.items.length));
    const refused = mine.find((o) => o instanceof BrokerError);
    if (refused) return refused;
    return p.items.map((item, i) => {
      const outcome = mine[i] as InsertOutcome; // one outcome per item, none refused
      if (outcome.deduplicated) return { messageId: outcome.messageId, url: item.spec.url, deduplicated: true };
      created.push(outcome.message);
      return { messageId: outcome.message.id, url: item.spec.url };
    });
  });
  dispatchCreated(ctx, created);
  return results;
}

/** Validates and stores one publish. Everything is parsed before anything is written, so a bad request stores nothing. */
export async function publishMessage(ctx: BrokerContext, input: PublishInput): Promise<{ results: PublishResult[]; isGroup: boolean }> {
  const prepared = await preparePublish(ctx, input);
  const [results = []] = await storePublishes(ctx, [prepared]);
  if (results instanceof BrokerError) throw results;
  return { results, isGroup: prepared.isGroup };
}

/** A message its run refuses (the run ended) is answered alone: the refusal is thrown before it writes anything. */
async function storeWorkflowItems(tx: Queryable, items: PreparedPublish['items'], now: number): Promise<(InsertOutcome | BrokerError)[]> {
  const outcomes: (InsertOutcome | BrokerError)[] = [];
  for (const item of items) {
    const binding = await bindToRun(tx, item.spec, item.explicit, now).catch((error: unknown) => {
      if (error instanceof BrokerError) return error;
      throw error;
    });
    if (binding instanceof BrokerError) {
      outcomes.push(binding);
      continue;
    }
    if ('duplicateOf' in binding) {
      outcomes.push({ deduplicated: true, messageId: binding.duplicateOf });
      continue;
    }
    const [inserted] = await insertMessages(tx, [{ spec: binding.spec, dueAt: item.dueAt, dedupKey: item.dedupKey }], { now, ensureQueues: true });
    if (inserted && !inserted.deduplicated) await recordStep(tx, inserted.message);
    outcomes.push(inserted as InsertOutcome); // one item in, one outcome out
  }
  return outcomes;
}
