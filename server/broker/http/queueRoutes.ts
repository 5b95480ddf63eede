import type { BrokerContext } from '../brokerContext.ts';
import { badRequest, notFound } from '../errors.ts';
import { validateName } from '../publish/validateUrl.ts';
import { deleteQueue, getQueue, listQueues, setQueuePaused, upsertQueue, type QueueRow } from '../queues/queueStore.ts';
import { parseJsonObject } from './parseJsonBody.ts';
import { ok, type BrokerRequest, type BrokerResponse, type Route } from './types.ts';

const MAX_PARALLELISM = 1000;

function queueJson(ctx: BrokerContext, q: QueueRow) {
  return { name: q.name, createdAt: q.createdAt, updatedAt: q.updatedAt, parallelism: q.parallelism, lag: ctx.dispatcher.lanes.lag(q.name), paused: q.paused };
}

async function upsert(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const body = parseJsonObject(req.body);
  const name = validateName(String(body.queueName ?? ''), 'queue name');
  const parallelism = body.parallelism === undefined ? 1 : Number(body.parallelism);
  if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > MAX_PARALLELISM) throw badRequest(`invalid parallelism: must be an integer between 1 and ${MAX_PARALLELISM}`);
  const queue = await upsertQueue(ctx.db, { name, parallelism, paused: body.paused === true }, ctx.now());
  ctx.dispatcher.lanes.configure(name, queue);
  return ok();
}

async function get(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const queue = await getQueue(ctx.db, req.params.name as string);
  if (!queue) throw notFound('queue not found');
  return ok(queueJson(ctx, queue));
}

async function list(ctx: BrokerContext): Promise<BrokerResponse> {
  return ok((await listQueues(ctx.db)).map((q) => queueJson(ctx, q)));
}

async function remove(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const name = req.params.name as string;
  const { found, messageIds } = await ctx.db.transaction((tx) => deleteQueue(tx, name, ctx.now()));
  if (!found) throw notFound('queue not found');
  for (const id of messageIds) ctx.dispatcher.remove(id);
  ctx.dispatcher.lanes.remove(name);
  return ok();
}

function setPaused(paused: boolean) {
  return async (ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> => {
    const queue = await setQueuePaused(ctx.db, req.params.name as string, paused, ctx.now());
    if (!queue) throw notFound('queue not found');
    ctx.dispatcher.lanes.configure(queue.name, queue);
    return ok();
  };
}

export const queueRoutes: Route[] = [
  { methods: ['POST'], pattern: '/v2/queues', handler: upsert },
  { methods: ['GET'], pattern: '/v2/queues', handler: list },
  { methods: ['GET'], pattern: '/v2/queues/:name', handler: get },
  { methods: ['DELETE'], pattern: '/v2/queues/:name', handler: remove },
  { methods: ['POST'], pattern: '/v2/queues/:name/pause', handler: setPaused(true) },
  { methods: ['POST'], pattern: '/v2/queues/:name/resume', handler: setPaused(false) },
];
