import type { BrokerContext } from '../brokerContext.ts';
import { buildFilter, EVENT_FILTERS, idFilter, pageSize } from '../db/filters.ts';
import { listEvents } from '../events/listEvents.ts';
import { ok, type BrokerRequest, type BrokerResponse, type Route } from './types.ts';

async function page(ctx: BrokerContext, req: BrokerRequest) {
  const filters = buildFilter(req.query, EVENT_FILTERS, ['count', 'cursor', 'messageIds']);
  const filter = idFilter(req.query, 'messageIds', 'message_id') ?? filters;
  const before = Number(req.query.get('cursor'));
  return listEvents(ctx.db, filter, { count: pageSize(req.query), before: Number.isFinite(before) && before > 0 ? before : undefined });
}

/** What the SDK calls: `{events, cursor?}`, cursor omitted on the last page. */
async function events(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  return ok(await page(ctx, req));
}

/** The newer documented shape: `{logs, cursor?}`. */
async function logs(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const { events: entries, cursor } = await page(ctx, req);
  return ok({ logs: entries, ...(cursor ? { cursor } : {}) });
}

export const eventRoutes: Route[] = [
  { methods: ['GET'], pattern: '/v2/events', handler: events },
  { methods: ['GET'], pattern: '/v2/logs', handler: logs },
];
