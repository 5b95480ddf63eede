/**
 * Metrics and health benchmark (not a test): `npm run bench:metrics -- [--rows 1000000] [--postgres URL]`.
 * Fills job_executions with `rows` jobs (mostly finished, as a real table is; with --postgres on a
 * scratch database there, dropped afterwards; else PGlite), then times `GET /metrics` (database
 * gauges read on every scrape: no cache) and `GET /api/admin/job-health` for an operator (every
 * organization) and an admin (one). Target: under 50 ms each at 1 M rows.
 */
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { benchToken, startBenchServer } from './benchServer.ts';
import { percentile } from './percentile.ts';
import { jobHealth } from '../server/jobs/jobHealth.ts';
import { ALL_ORGANIZATIONS } from '../server/jobs/scope.ts';
import { readQueueSnapshot } from '../server/metrics/queueGauges.ts';
import { processRegistry } from '../server/metrics/jobMetrics.ts';
import { scratchDatabase } from './scratchDatabase.ts';

const { values } = parseArgs({ options: { rows: { type: 'string' }, postgres: { type: 'string' }, runs: { type: 'string' } } });
const ROWS = Number(values.rows ?? 1_000_000);
const RUNS = Number(values.runs ?? 50);
const TOKEN = 'bench-metrics-token-0123456789';
const scratch = await scratchDatabase(values.postgres);
const server = await startBenchServer(scratch.url, { metrics: { token: TOKEN, cacheMs: 0 }, sweeper: { intervalMs: 3_600_000 }, defaultSchedules: false });
const db = server.database.db;

let started = Date.now();
// 97 % completed over the last week, then failed, cancelled, pending, retrying, processing; 100 organizations.
const CHUNK = 50_000;
for (let from = 0; from < ROWS; from += CHUNK) {
  const to = Math.min(ROWS, from + CHUNK) - 1;
  await db.execute(sql`
    INSERT INTO job_executions (job_id, job_type, status, payload, metadata, max_retries, timeout_ms, organization_id, user_id, published_at,
                                created_at, updated_at, started_at, completed_at, error, run_at, next_attempt_at, lease_until)
    SELECT gen_random_uuid(), (ARRAY['send-email','export-data','generate-report','process-webhook'])[1 + i % 4], s.status, '{"to":"a@example.com"}'::jsonb, '{}'::jsonb, 3, 30000,
           1 + i % 100, '1', CASE WHEN i % 1000 = 7 THEN NULL ELSE c END, c, c, c, CASE WHEN s.status IN ('completed','failed','cancelled') THEN c + interval '1 second' END,
           CASE WHEN s.status IN ('failed','retrying') THEN jsonb_build_object('name', 'Error', 'message', 'upstream returned ' || (500 + i % 4)) END,
           c, CASE WHEN s.status = 'retrying' THEN now() + interval '1 minute' END, CASE WHEN s.status = 'processing' THEN now() + interval '1 minute' END
    FROM generate_series(${from}::int, ${to}::int) AS i,
         LATERAL (SELECT now() - (${ROWS}::int - i) * (interval '7 days' / ${ROWS}::int) AS c) AS t,
         LATERAL (SELECT CASE WHEN i % 100 < 97 THEN 'completed' WHEN i % 100 = 97 THEN 'failed' WHEN i % 1000 < 985 THEN 'cancelled'
                              WHEN i % 1000 < 990 THEN 'pending' WHEN i % 1000 < 998 THEN 'retrying' ELSE 'processing' END AS status) AS s`);
}
await db.execute(sql`ANALYZE job_executions`);
console.log(`${ROWS.toLocaleString('en')} job rows on ${server.database.driver} in ${((Date.now() - started) / 1000).toFixed(1)} s`);

async function time(label: string, url: string, token: string): Promise<void> {
  const headers = { Authorization: `Bearer ${token}` };
  await measure(label, async () => {
    const response = await fetch(url, { headers });
    await response.text();
    if (!response.ok) throw new Error(`${label}: HTTP ${response.status}`);
  });
}

async function measure(label: string, run: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 3; i++) await run(); // warm up
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    started = performance.now();
    await run();
    ms.push(performance.now() - started);
  }
  ms.sort((a, b) => a - b);
  const p95 = percentile(ms, 95);
  console.log(`${label.padEnd(44)} p50 ${percentile(ms, 50).toFixed(1).padStart(6)} ms   p95 ${p95.toFixed(1).padStart(6)} ms   max ${ms.at(-1)!.toFixed(1).padStart(6)} ms   ${p95 < 50 ? 'under' : 'OVER'} 50 ms`);
}

await time('GET /metrics (no gauge cache)', `${server.url}/metrics`, TOKEN);
await time('GET /api/admin/job-health, operator (all)', `${server.url}/api/admin/job-health`, await benchToken({ userId: '1', organizationId: 1, role: 'operator' }));
await time('GET /api/admin/job-health, admin (1 org)', `${server.url}/api/admin/job-health`, await benchToken({ userId: '1', organizationId: 7, role: 'admin' }));

// The parts: the database reads alone, and prom-client rendering this process's metrics.
await measure('  of which: queue gauge queries', () => readQueueSnapshot(db));
await measure('  of which: process metrics rendering', () => processRegistry.metrics());
await measure('  health queries, all organizations', () => jobHealth(db, ALL_ORGANIZATIONS));
await measure('  health queries, one organization', () => jobHealth(db, { organizationId: 7 }));

await server.stop();
await scratch.drop();
