import type { BrokerContext } from '../brokerContext.ts';
import { buildFilter, idFilter, pageSize, requireExplicitAll, type FilterTable } from '../db/filters.ts';
import { badRequest, notFound } from '../errors.ts';
import { cancelRun } from '../workflows/cancelRun.ts';
import { runLogJson, pendingRunMessages } from '../workflows/runLogs.ts';
import { endRun, getRun, listRuns, listSteps } from '../workflows/runStore.ts';
import { ok, type BrokerRequest, type BrokerResponse, type Route } from './types.ts';

const RUN_STATES = ['RUN_STARTED', 'RUN_SUCCESS', 'RUN_FAILED', 'RUN_CANCELED'] as const;
const RUN_FILTERS: FilterTable = { time: 'created_at', columns: { label: 'labels', state: 'state', url: 'url', messageId: 'run_id' }, states: RUN_STATES };

/** `GET /v2/workflows/runs/{runId}`: the live run's step entries (the SDK's LazyFetch). 404 once it ended. */
async function steps(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const runId = req.params.runId as string;
  const run = await getRun(ctx.db, runId);
  if (!run || run.state !== 'RUN_STARTED') throw notFound('workflow run not found');
  const entries = (await listSteps(ctx.db, runId)) ?? [];
  return ok(entries.map((e) => ({ messageId: e.messageId, body: e.body.toString('base64'), callType: e.callType })));
}

/** `DELETE /v2/workflows/runs/{runId}?cancel=false` ends a run with its result; `cancel=true` cancels it. */
async function endOne(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const runId = req.params.runId as string;
  const cancel = req.query.get('cancel') ?? 'true';
  if (cancel !== 'true' && cancel !== 'false') throw badRequest('invalid cancel: must be true or false');
  const run = await getRun(ctx.db, runId);
  if (!run) throw notFound('workflow run not found');
  const ended = cancel === 'true' ? await cancelRun(ctx, runId) : await endRun(ctx.db, runId, { state: 'RUN_SUCCESS', now: ctx.now(), response: req.body.toString('utf8') });
  if (!ended) throw badRequest(`workflow run ${runId} is not active`);
  return ok();
}

/**
 * Translates the workflow SDK's filter names to the runs table's. Bulk cancel sends `workflowUrl`
 * alone for "starting with" and adds `workflowUrlExactMatch=true` for an exact URL; logs mean exact.
 */
function runQuery(query: URLSearchParams, urlPrefixByDefault: boolean): URLSearchParams {
  const exact = query.has('workflowUrlExactMatch') ? query.get('workflowUrlExactMatch') === 'true' : !urlPrefixByDefault;
  const out = new URLSearchParams();
  for (const [name, value] of query) {
    if (name === 'workflowUrl') out.append(exact ? 'url' : 'urlPrefix', value);
    else if (name === 'workflowRunId') out.append('messageId', value);
    else if (name !== 'workflowUrlExactMatch') out.append(name, value);
  }
  return out;
}

function runFilter(query: URLSearchParams, control: readonly string[]) {
  const prefixes = query.getAll('urlPrefix');
  const rest = new URLSearchParams([...query].filter(([name]) => name !== 'urlPrefix'));
  const filter = buildFilter(rest, RUN_FILTERS, control);
  if (prefixes.length === 0) return filter;
  const params = [...filter.params, ...prefixes.map((p) => `${p.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)];
  const like = prefixes.map((_p, i) => `url LIKE $${filter.params.length + i + 1}`).join(' OR ');
  return { where: `${filter.where} AND (${like})`, params, empty: false };
}

/** `DELETE /v2/workflows/runs?workflowRunIds=…|filters|all`: cancels live runs, `{cancelled}`. */
async function cancelMany(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const query = runQuery(req.query, true);
  const filter = runFilter(query, ['workflowRunIds', 'count', 'cursor', 'all']);
  const byId = idFilter(req.query, 'workflowRunIds', 'run_id');
  if (!byId) requireExplicitAll(query, filter, 'cancel');
  const chosen = byId ?? filter;
  const rows = await ctx.db.query<{ run_id: string }>(`SELECT run_id FROM qstash.workflow_runs WHERE state = 'RUN_STARTED' AND (${chosen.where})`, chosen.params);
  let cancelled = 0;
  for (const { run_id } of rows) if (await cancelRun(ctx, run_id)) cancelled++;
  return ok({ cancelled });
}

/** `GET /v2/workflows/events` (the SDK's `client.logs`): `{runs, cursor}`, newest first. */
async function logs(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const query = runQuery(req.query, false);
  const groupBy = query.get('groupBy');
  if (groupBy !== null && groupBy !== 'workflowRunId') throw badRequest('invalid groupBy: only workflowRunId is supported');
  const filter = runFilter(query, ['groupBy', 'count', 'cursor']);
  const before = Number(req.query.get('cursor'));
  const { runs, more } = await listRuns(ctx.db, filter, { count: pageSize(req.query, 10), before: Number.isFinite(before) && before > 0 ? before : undefined });
  const json = [];
  for (const run of runs) json.push(runLogJson(run, (await listSteps(ctx.db, run.runId)) ?? [], await pendingRunMessages(ctx.db, run.runId)));
  const last = runs.at(-1);
  return ok({ runs: json, cursor: more && last ? String(last.createdAt) : '' });
}

export const workflowRunRoutes: Route[] = [
  { methods: ['GET'], pattern: '/v2/workflows/runs/:runId', handler: steps },
  { methods: ['DELETE'], pattern: '/v2/workflows/runs/:runId', handler: endOne },
  { methods: ['DELETE'], pattern: '/v2/workflows/runs', handler: cancelMany },
  { methods: ['GET'], pattern: '/v2/workflows/events', handler: logs },
  { methods: ['GET'], pattern: '/v2/workflows/logs', handler: logs },
];
