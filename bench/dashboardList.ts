/**
 * Dashboard list benchmark (not a test): `npm run bench:dashboard -- [--rows 10000] [--postgres URL] [--runs 50]`.
 * Fills job_executions with `rows` jobs across 20 organizations (with --postgres on a scratch
 * database there, dropped afterwards; else PGlite), then times what the Jobs and Overview screens
 * ask the server for, over HTTP with the typed client as the browser does: the first page of
 * `jobs.list` (50 rows) unfiltered and with each filter, the second page by cursor, and
 * `dashboard.overview`. Target (issue 12): the first page under 300 ms from the server.
 * Wall times on a shared machine are indicative; the CPU column (this process: client and
 * server) is the steadier number.
 */
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { createJobsClient } from '../client/createJobsClient.ts';
import { benchToken, startBenchServer } from './benchServer.ts';
import { percentile } from './percentile.ts';
import { scratchDatabase } from './scratchDatabase.ts';

const { values } = parseArgs({ options: { rows: { type: 'string' }, postgres: { type: 'string' }, runs: { type: 'string' } } });
const ROWS = Number(values.rows ?? 10_000);
const RUNS = Number(values.runs ?? 50);
const TARGET_MS = 300;
const scratch = await scratchDatabase(values.postgres);
const server = await startBenchServer(scratch.url, { sweeper: { intervalMs: 3_600_000 }, defaultSchedules: false });
const db = server.database.db;

const started = performance.now();
// Finished jobs over the last day (so no delivery runs during the measurements), 5 % failed with varied errors; 20 organizations.
await db.execute(sql`
  INSERT INTO job_executions (job_id, job_type, status, payload, metadata, max_retries, timeout_ms, organization_id, user_id, published_at,
                              created_at, updated_at, started_at, completed_at, error, run_at)
  SELECT gen_random_uuid(), (ARRAY['send-email','export-data','generate-report','process-webhook'])[1 + i % 4], s.status,
         jsonb_build_object('to', 'user' || i || '@example.com', 'template', 'welcome'), '{}'::jsonb, 3, 30000,
         1 + i % 20, '1', c, c, c, c, CASE WHEN s.status IN ('completed','failed','cancelled') THEN c + interval '1 second' END,
         CASE WHEN s.status IN ('failed','retrying') THEN jsonb_build_object('name', 'Error', 'message', 'upstream returned ' || (500 + i % 4)) END, c
  FROM generate_series(0, ${ROWS - 1}::int) AS i,
       LATERAL (SELECT now() - (${ROWS}::int - i) * (interval '1 day' / ${ROWS}::int) AS c) AS t,
       LATERAL (SELECT CASE WHEN i % 100 < 93 THEN 'completed' WHEN i % 100 < 98 THEN 'failed' ELSE 'cancelled' END AS status) AS s`);
await db.execute(sql`ANALYZE job_executions`);
console.log(`${ROWS.toLocaleString('en')} job rows on ${server.database.driver} in ${((performance.now() - started) / 1000).toFixed(1)} s`);

const client = async (role: 'admin' | 'operator') => createJobsClient({ url: `${server.url}/trpc`, token: await benchToken({ userId: '1', organizationId: 7, role }) });
const admin = await client('admin');
const operator = await client('operator');
const hourAgo = new Date(Date.now() - 3_600_000);

async function measure(label: string, run: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 3; i++) await run(); // warm up
  const ms: number[] = [];
  const cpu = process.cpuUsage();
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await run();
    ms.push(performance.now() - t0);
  }
  const used = process.cpuUsage(cpu);
  ms.sort((a, b) => a - b);
  const p95 = percentile(ms, 95);
  const cpuMs = (used.user + used.system) / 1000 / RUNS;
  console.log(
    `${label.padEnd(52)} p50 ${percentile(ms, 50).toFixed(1).padStart(6)} ms   p95 ${p95.toFixed(1).padStart(6)} ms   cpu ${cpuMs.toFixed(1).padStart(5)} ms/req   ${p95 < TARGET_MS ? 'under' : 'OVER'} ${TARGET_MS} ms`,
  );
}

await measure('jobs.list first page, admin (1 org)', () => admin.jobs.list.query({}));
await measure('jobs.list first page, operator (all orgs)', () => operator.jobs.list.query({}));
await measure('jobs.list status=failed, operator', () => operator.jobs.list.query({ status: 'failed' }));
await measure('jobs.list error text "returned 502", operator', () => operator.jobs.list.query({ errorText: 'returned 502' }));
await measure('jobs.list type + last hour, admin', () => admin.jobs.list.query({ type: 'send-email', createdAfter: hourAgo }));
await measure('jobs.list organization 7, operator', () => operator.jobs.list.query({ organizationId: 7 }));
const { nextCursor } = await operator.jobs.list.query({});
await measure('jobs.list second page (cursor), operator', () => operator.jobs.list.query({ cursor: nextCursor }));
await measure('dashboard.overview hour, operator', () => operator.dashboard.overview.query({ window: 'hour' }));
await measure('dashboard.overview day, admin', () => admin.dashboard.overview.query({ window: 'day' }));

await server.stop();
await scratch.drop();
