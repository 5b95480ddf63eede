/**
 * Export benchmark (not a test): `npx tsx bench/export.ts [--rows 1000000] [--format csv|json] [--postgres URL]`.
 * Seeds an organization with N job rows (PGlite in a temporary directory by default; with
 * --postgres, a scratch database on that server), runs the `export-data` handler over them into
 * local file storage, and prints rows/s and the process's peak RSS, sampled every 50 ms, next to
 * the RSS before the export: memory stays flat whatever N is.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import pino from 'pino';
import { openDatabase } from '../server/db/database.ts';
import { migrateDatabase } from '../server/db/migrate.ts';
import { createDataJobs } from '../server/files/createDataJobs.ts';
import type { HandlerContext } from '../server/jobs/handlers.ts';
import type { JobPayload } from '../shared/catalogue.ts';
import { scratchDatabase } from './scratchDatabase.ts';

const { values } = parseArgs({ options: { rows: { type: 'string' }, format: { type: 'string' }, postgres: { type: 'string' } } });
const ROWS = Number(values.rows ?? 1_000_000);
const FORMAT = values.format === 'json' ? 'json' : 'csv';
const ORG = 1;
const MB = 1024 * 1024;
const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;

const dir = mkdtempSync(join(tmpdir(), 'jobwire-bench-export-'));
const scratch = await scratchDatabase(values.postgres);
const database = await openDatabase(scratch.url ? { url: scratch.url } : { dataDir: join(dir, 'pglite') });
await migrateDatabase(database);
const log = pino({ level: 'warn' });

// Seed in chunks of 100k rows, one INSERT … SELECT generate_series each.
const seedStart = performance.now();
for (let done = 0; done < ROWS; done += 100_000) {
  const n = Math.min(100_000, ROWS - done);
  await database.db.execute(sql`
    INSERT INTO job_executions (job_id, job_type, status, payload, max_retries, timeout_ms, organization_id, user_id, published_at, created_at, updated_at, started_at, completed_at)
    SELECT gen_random_uuid(), 'send-email', 'completed', jsonb_build_object('to', 'user' || i || '@example.com', 'template', 'welcome'), 0, 30000, ${ORG}, '1', now(),
           now() - (${ROWS}::int - i) * interval '1 second', now(), now(), now()
    FROM generate_series(${done}::int, ${done + n - 1}::int) AS i`);
}
// As autovacuum would soon after a bulk load: without statistics the planner misjudges the keyset query.
await database.db.execute(sql`ANALYZE job_executions`);
process.stdout.write(`seeded ${ROWS.toLocaleString('en')} rows on ${database.driver} in ${((performance.now() - seedStart) / 1000).toFixed(1)} s\n`);

globalThis.gc?.();
const { handlers } = createDataJobs({ db: database.db, log, publicUrl: 'http://127.0.0.1:3000', authSecret: 'bench-secret-0123456789abcdef0123456789', filesDir: join(dir, 'files') });
const rssBefore = process.memoryUsage().rss;
let peakRss = rssBefore;
let peakHeap = process.memoryUsage().heapUsed;
const sampler = setInterval(() => {
  const { rss, heapUsed } = process.memoryUsage();
  peakRss = Math.max(peakRss, rss);
  peakHeap = Math.max(peakHeap, heapUsed);
}, 50);

// The export's own job row (its file row references it).
const jobId = randomUUID();
await database.db.execute(sql`
  INSERT INTO job_executions (job_id, job_type, status, payload, max_retries, timeout_ms, organization_id)
  VALUES (${jobId}, 'export-data', 'processing', '{}'::jsonb, 0, 900000, NULL)`);

const milestones: string[] = [];
let nextMilestone = 0.1;
const payload: JobPayload<'export-data'> = { entityType: 'jobs', format: FORMAT, filters: {} };
const ctx: HandlerContext<'export-data'> = {
  jobId,
  type: 'export-data',
  payload,
  attempt: 1,
  maxRetries: 0,
  organizationId: ORG,
  userId: '1',
  metadata: {},
  signal: new AbortController().signal,
  log,
  async progress(fraction) {
    if (fraction + 1e-9 < nextMilestone) return;
    milestones.push(`${Math.round(fraction * 100)}%: rss ${mb(process.memoryUsage().rss)}`);
    nextMilestone = Math.floor(fraction * 10 + 1e-9) / 10 + 0.1;
  },
};

const start = performance.now();
const result = (await handlers['export-data'](payload, ctx)) as { rowCount: number; bytes: number };
const seconds = (performance.now() - start) / 1000;
clearInterval(sampler);

process.stdout.write(
  [
    `export-data ${FORMAT}: ${result.rowCount.toLocaleString('en')} rows, ${mb(result.bytes)} in ${seconds.toFixed(1)} s`,
    `  ${Math.round(result.rowCount / seconds).toLocaleString('en')} rows/s`,
    `  RSS before ${mb(rssBefore)}, peak during export ${mb(peakRss)} (+${mb(peakRss - rssBefore)}); peak JS heap ${mb(peakHeap)}`,
    `  RSS along the way: ${milestones.join(', ')}`,
    '',
  ].join('\n'),
);

await database.close();
await scratch.drop();
rmSync(dir, { recursive: true, force: true });
