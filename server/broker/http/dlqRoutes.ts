import { dispatchCreated, type BrokerContext } from '../brokerContext.ts';
import { buildFilter, DLQ_FILTERS, idFilter, pageSize, requireExplicitAll } from '../db/filters.ts';
import { deleteDlqEntries, dlqJson, getDlqEntry, listDlq, type DlqEntry, type DlqSelection } from '../dlq/dlqStore.ts';
import { badRequest, notFound } from '../errors.ts';
import { insertMessage } from '../messages/insertMessage.ts';
import type { StoredMessage } from '../messages/messageModel.ts';
import { ensureQueue } from '../queues/queueStore.ts';
import { resumeStep } from '../workflows/runStore.ts';
import { ok, type BrokerRequest, type BrokerResponse, type Route } from './types.ts';

/** `source=workflow` (what the workflow SDK's `dlq.list` sends) keeps workflow runs' entries only. */
function withSource(query: URLSearchParams, selection: DlqSelection): DlqSelection {
  const source = query.get('source');
  if (source === null) return selection;
  if (source !== 'workflow') throw badRequest(`invalid source: ${source}`);
  return { where: `(${selection.where}) AND message -> 'workflow' IS NOT NULL`, params: selection.params };
}

/** `dlqIds` (other filters then ignored, as QStash documents) or filters; unknown names are a 400. */
function selection(req: BrokerRequest): DlqSelection {
  const filter = buildFilter(req.query, DLQ_FILTERS, ['count', 'cursor', 'dlqIds', 'source']);
  return withSource(req.query, idFilter(req.query, 'dlqIds', 'dlq_id') ?? filter);
}

/** Like `selection`, but a bulk action with no ids and no filter needs the explicit `all`. */
export function bulkSelection(req: BrokerRequest, what: string, workflowsOnly = false): DlqSelection {
  const filter = buildFilter(req.query, DLQ_FILTERS, ['count', 'cursor', 'dlqIds', 'all', 'source']);
  const ids = idFilter(req.query, 'dlqIds', 'dlq_id');
  if (!ids) requireExplicitAll(req.query, filter, what);
  const chosen = withSource(req.query, ids ?? filter);
  return workflowsOnly ? { where: `(${chosen.where}) AND message -> 'workflow' IS NOT NULL`, params: chosen.params } : chosen;
}

export function page(req: BrokerRequest) {
  const after = Number(req.query.get('cursor'));
  return { count: pageSize(req.query), after: Number.isFinite(after) && after > 0 ? after : undefined };
}

async function list(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const { entries, cursor } = await listDlq(ctx.db, selection(req), page(req));
  return ok({ messages: entries.map(dlqJson), ...(cursor ? { cursor } : {}) });
}

async function get(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const entry = await getDlqEntry(ctx.db, req.params.dlqId as string);
  if (!entry) throw notFound('dlq message not found');
  return ok(dlqJson(entry));
}

async function removeOne(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  if ((await deleteDlqEntries(ctx.db, [req.params.dlqId as string])) === 0) throw notFound('dlq message not found');
  return ok({ deleted: 1 });
}

async function removeMany(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const { entries, cursor } = await listDlq(ctx.db, bulkSelection(req, 'delete'), page(req));
  const deleted = await deleteDlqEntries(ctx.db, entries.map((e) => e.dlqId));
  return ok({ deleted, ...(cursor ? { cursor } : {}) });
}

/** Re-publishes each entry as a new message (fresh id, attempts from zero) and drops the entry. */
async function retryEntries(ctx: BrokerContext, entries: DlqEntry[]): Promise<{ messageId: string }[]> {
  const now = ctx.now();
  const created: StoredMessage[] = [];
  for (const entry of entries) {
    const message = await ctx.db.transaction(async (tx) => {
      if ((await deleteDlqEntries(tx, [entry.dlqId])) === 0) return undefined;
      if (entry.message.queueName) await ensureQueue(tx, entry.message.queueName, now);
      const outcome = await insertMessage(tx, { ...entry.message, notBefore: now }, { now, dueAt: now });
      if (outcome.deduplicated) return undefined;
      // A workflow step retried from the plain DLQ resumes its run, as /v2/workflows/dlq/resume does.
      if (entry.message.workflow) await resumeStep(tx, entry.message.workflow.runId, entry.message.id, outcome.message.id);
      return outcome.message;
    });
    if (message) created.push(message);
  }
  dispatchCreated(ctx, created);
  return created.map((m) => ({ messageId: m.id }));
}

async function retryMany(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const { entries, cursor } = await listDlq(ctx.db, bulkSelection(req, 'retry'), page(req));
  return ok({ cursor: cursor ?? '', responses: await retryEntries(ctx, entries) }, 201);
}

async function retryOne(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const entry = await getDlqEntry(ctx.db, req.params.dlqId as string);
  if (!entry) throw notFound('dlq message not found');
  const [response] = await retryEntries(ctx, [entry]);
  return ok(response ?? {}, 201);
}

export const dlqRoutes: Route[] = [
  { methods: ['GET'], pattern: '/v2/dlq', handler: list },
  { methods: ['DELETE'], pattern: '/v2/dlq', handler: removeMany },
  { methods: ['POST'], pattern: '/v2/dlq/retry', handler: retryMany },
  { methods: ['POST'], pattern: '/v2/dlq/retry/:dlqId', handler: retryOne },
  { methods: ['GET'], pattern: '/v2/dlq/:dlqId', handler: get },
  { methods: ['DELETE'], pattern: '/v2/dlq/:dlqId', handler: removeOne },
];
