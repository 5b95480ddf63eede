import type { BrokerContext } from '../brokerContext.ts';
import { buildFilter, idFilter, MESSAGE_FILTERS, requireExplicitAll } from '../db/filters.ts';
import { notFound } from '../errors.ts';
import { messageJson } from '../messages/messageJson.ts';
import { cancelMessages, getMessage } from '../messages/messageQueries.ts';
import { ok, type BrokerRequest, type BrokerResponse, type Route } from './types.ts';

async function get(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const message = await getMessage(ctx.db, req.params.id as string);
  if (!message) throw notFound('message not found');
  // An attempt writes nothing until it ends, so "under way" comes from the dispatcher.
  return ok(messageJson(ctx.dispatcher.isInFlight(message.id) ? { ...message, state: 'ACTIVE' } : message));
}

async function cancelOne(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const ids = await cancelMessages(ctx.db, { where: 'id = $1', params: [req.params.id as string] }, ctx.now());
  if (ids.length === 0) throw notFound('message not found');
  for (const id of ids) ctx.dispatcher.remove(id);
  return ok({ cancelled: ids.length });
}

/**
 * `?messageIds=…`, filters, or everything when asked explicitly (`all=true`, or the SDK's
 * `{ all: true }`: nothing but `count`). `count` is otherwise ignored, as the SDK documents.
 */
async function cancelMany(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const filters = buildFilter(req.query, MESSAGE_FILTERS, ['messageIds', 'count', 'all']);
  const byId = idFilter(req.query, 'messageIds', 'id');
  if (!byId) requireExplicitAll(req.query, filters, 'cancel');
  const filter = byId ?? filters;
  const ids = await cancelMessages(ctx.db, filter, ctx.now());
  for (const id of ids) ctx.dispatcher.remove(id);
  return ok({ cancelled: ids.length });
}

export const messageRoutes: Route[] = [
  { methods: ['GET'], pattern: '/v2/messages/:id', handler: get },
  { methods: ['DELETE'], pattern: '/v2/messages/:id', handler: cancelOne },
  { methods: ['DELETE'], pattern: '/v2/messages', handler: cancelMany },
];
