import type { BrokerContext } from '../brokerContext.ts';
import { badRequest, notFound } from '../errors.ts';
import { validateName, validateUrl } from '../publish/validateUrl.ts';
import { parseJsonObject } from './parseJsonBody.ts';
import { ok, type BrokerRequest, type BrokerResponse, type Route } from './types.ts';

interface Endpoint {
  name?: string;
  url: string;
}

interface GroupRow {
  name: string;
  endpoints: Endpoint[];
  created_at: number;
  updated_at: number;
}

const groupJson = (g: GroupRow) => ({ name: g.name, createdAt: Number(g.created_at), updatedAt: Number(g.updated_at), endpoints: g.endpoints });

function parseEndpoints(req: BrokerRequest): Endpoint[] {
  const raw = parseJsonObject(req.body).endpoints;
  if (!Array.isArray(raw) || raw.length === 0) throw badRequest('endpoints must be a non-empty array');
  return raw.map((e: unknown) => {
    const item = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
    const name = typeof item.name === 'string' && item.name !== '' ? item.name : undefined;
    const url = typeof item.url === 'string' && item.url !== '' ? validateUrl(item.url, 'endpoint url') : undefined;
    if (!url && !name) throw badRequest('each endpoint needs a url');
    return { ...(name ? { name } : {}), url: url ?? '' };
  });
}

async function addEndpoints(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const name = validateName(req.params.name as string, 'url group name');
  const added = parseEndpoints(req).filter((e) => e.url !== '');
  const now = ctx.now();
  await ctx.db.transaction(async (tx) => {
    await tx.query('INSERT INTO qstash.url_groups (name, created_at, updated_at) VALUES ($1, $2, $2) ON CONFLICT (name) DO NOTHING', [name, now]);
    const [group] = await tx.query<GroupRow>('SELECT * FROM qstash.url_groups WHERE name = $1 FOR UPDATE', [name]);
    const kept = (group?.endpoints ?? []).filter((e) => !added.some((a) => a.url === e.url));
    await tx.query('UPDATE qstash.url_groups SET endpoints = $2::text::jsonb, updated_at = $3 WHERE name = $1', [name, JSON.stringify([...kept, ...added]), now]);
  });
  return ok();
}

async function removeEndpoints(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const removed = parseEndpoints(req);
  const found = await ctx.db.transaction(async (tx) => {
    const [group] = await tx.query<GroupRow>('SELECT * FROM qstash.url_groups WHERE name = $1 FOR UPDATE', [req.params.name as string]);
    if (!group) return false;
    const kept = group.endpoints.filter((e) => !removed.some((r) => (r.url !== '' && r.url === e.url) || (r.name !== undefined && r.name === e.name)));
    await tx.query('UPDATE qstash.url_groups SET endpoints = $2::text::jsonb, updated_at = $3 WHERE name = $1', [group.name, JSON.stringify(kept), ctx.now()]);
    return true;
  });
  if (!found) throw notFound('url group not found');
  return ok();
}

async function get(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const [group] = await ctx.db.query<GroupRow>('SELECT * FROM qstash.url_groups WHERE name = $1', [req.params.name as string]);
  if (!group) throw notFound('url group not found');
  return ok(groupJson(group));
}

async function list(ctx: BrokerContext): Promise<BrokerResponse> {
  return ok((await ctx.db.query<GroupRow>('SELECT * FROM qstash.url_groups ORDER BY name')).map(groupJson));
}

async function remove(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const rows = await ctx.db.query('DELETE FROM qstash.url_groups WHERE name = $1 RETURNING name', [req.params.name as string]);
  if (rows.length === 0) throw notFound('url group not found');
  return ok();
}

export const urlGroupRoutes: Route[] = [
  { methods: ['GET'], pattern: '/v2/topics', handler: list },
  { methods: ['GET'], pattern: '/v2/topics/:name', handler: get },
  { methods: ['DELETE'], pattern: '/v2/topics/:name', handler: remove },
  { methods: ['POST'], pattern: '/v2/topics/:name/endpoints', handler: addEndpoints },
  { methods: ['DELETE'], pattern: '/v2/topics/:name/endpoints', handler: removeEndpoints },
];
