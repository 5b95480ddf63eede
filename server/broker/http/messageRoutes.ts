import type { BrokerContext } from '../brokerContext.ts';
import { buildFilter, MESSAGE_FILTERS } from '../db/filters.ts';
import { notFound } from '../errors.ts';
import { messageJson } from '../messages/messageJson.ts';
import { cancelMessages, getMessage } from '../messages/messageQueries.ts';
import { ok, type BrokerRequest, type BrokerResponse, type Route } from './types.ts';

async function get(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const message = await getMessage(ctx.db, req.params.id as string);
  if (!message) throw notFound('message not found');
  return ok(messageJson(message));
}

async function cancelOne(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const ids = await cancelMessages(ctx.db, { where: 'id = $1', params: [req.params.id as string] }, ctx.now());
  if (ids.length === 0) throw notFound('message not found');
  for (const id of ids) ctx.dispatcher.remove(id);
  return ok({ cancelled: ids.length });
}

/** `?messageIds=…`, filters, or nothing but `count` (= all). `count` is ignored, as the SDK documents. */
async function cancelMany(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const messageIds = req.query.getAll('messageIds');
  const filter =
    messageIds.length > 0
      ? { where: `id IN (${messageIds.map((_id, i) => `$${i + 1}`).join(', ')})`, params: messageIds }
      : buildFilter(req.query, MESSAGE_FILTERS);
  const ids = await cancelMessages(ctx.db, filter, ctx.now());
  for (const id of ids) ctx.dispatcher.remove(id);
  return ok({ cancelled: ids.length });
}

export const messageRoutes: Route[] = [
  { methods: ['GET'], pattern: '/v2/messages/:id', handler: get },
  { methods: ['DELETE'], pattern: '/v2/messages/:id', handler: cancelOne },
  { methods: ['DELETE'], pattern: '/v2/messages', handler: cancelMany },
];
