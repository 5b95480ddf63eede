// The plans of the queries that read job_executions, as the app issues them (captured through
// drizzle's logger, parameters included), on a table of ~100k rows: which index each uses.
// Exits 1 when one scans the whole table. docs/performance.md, "Delivery".
//   npx tsx test/perf/explainJobQueries.ts [--rows 100000]
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import pino from 'pino';
import postgres from 'postgres';
import { deleteOldJobs } from '../../server/cleanup/deleteOldJobs.ts';
import type { Database, Db } from '../../server/db/database.ts';
import { migrateDatabase } from '../../server/db/migrate.ts';
import * as schema from '../../server/db/schema.ts';
import type { JobsDeps } from '../../server/jobs/deps.ts';
import { jobHealth } from '../../server/jobs/jobHealth.ts';
import { listJobs } from '../../server/jobs/listJobs.ts';
import { ALL_ORGANIZATIONS } from '../../server/jobs/scope.ts';
import { sweepOnce } from '../../server/jobs/sweeper.ts';
import { readQueueSnapshot } from '../../server/metrics/queueGauges.ts';
import { listFailureGroups } from '../../server/ops/failureGroups.ts';
import { seedJobs } from '../support/seedJobs.ts';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '100000' } } });
const rows = Number(values.rows);
const admin = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const name = `jobwire_explain_${randomBytes(4).toString('hex')}`;
const psql = (command: string) => execFileSync('psql', [admin, '-qAtc', command], { encoding: 'utf8' });
psql(`CREATE DATABASE ${name}`);
const url = new URL(admin);
url.pathname = `/${name}`;
const client = postgres(url.toString(), { max: 2, onnotice: () => {} });
let captured: { query: string; params: unknown[] }[] = [];
const db = drizzle(client, { schema, logger: { logQuery: (query, params) => void captured.push({ query, params }) } }) as unknown as Db;
let failed = false;
try {
  await migrateDatabase({ url: url.toString() } as Database);
  // Mostly finished jobs over ~25 days in 50 organizations, and a working set of unfinished ones.
  const perOrg = Math.floor(rows / 50);
  const stepMs = Math.min(1_000_000, Math.floor((25 * 86_400_000) / perOrg)); // i * step stays an int4
  for (let org = 1; org <= 50; org++) await seedJobs(db, { organizationId: org, count: perOrg, stepMs, createdAt: new Date(Date.now() - perOrg * stepMs - 3_600_000) });
  await seedJobs(db, { organizationId: 7, count: Math.floor(perOrg / 10), status: 'failed', stepMs });
  await seedJobs(db, { organizationId: 7, count: 500, status: 'pending' });
  await seedJobs(db, { organizationId: 8, count: 200, status: 'processing' });
  await seedJobs(db, { organizationId: 9, count: 300, status: 'retrying' });
  await db.execute(sql`UPDATE job_executions SET published_at = NULL WHERE status = 'pending' AND organization_id = 7 AND created_at > now() - interval '1 hour'`);
  await db.execute(sql`UPDATE job_executions SET lease_until = now() + interval '1 minute' WHERE status = 'processing'`);
  await db.execute(sql`ANALYZE job_executions`);

  const log = pino({ level: 'silent' });
  const deps = {
    db,
    log,
    publicUrl: 'http://127.0.0.1:1',
    publisher: { publish: () => Promise.reject(new Error('no broker')) },
  } as unknown as JobsDeps; // the sweeper publishes nothing here: the first publish fails and it stops
  const cases: [string, () => Promise<unknown>][] = [
    ['jobs.list, one organization, first page', () => listJobs(db, { organizationId: 7 }, { limit: 50 })],
    ['jobs.list, one organization, by status', () => listJobs(db, { organizationId: 7 }, { limit: 50, status: 'failed' })],
    ['jobs.list, one organization, by user', () => listJobs(db, { organizationId: 7 }, { limit: 50, userId: '1' })],
    ['jobs.list, all organizations (operator)', () => listJobs(db, ALL_ORGANIZATIONS, { limit: 50 })],
    ['jobs.list, all organizations, status failed', () => listJobs(db, ALL_ORGANIZATIONS, { limit: 50, status: 'failed' })],
    ['jobs.list, all organizations, status pending', () => listJobs(db, ALL_ORGANIZATIONS, { limit: 50, status: 'pending' })],
    ['job health, all organizations', () => jobHealth(db, ALL_ORGANIZATIONS)],
    ['job health, one organization', () => jobHealth(db, { organizationId: 7 })],
    ['queue gauges', () => readQueueSnapshot(db)],
    ['sweeper pass', () => sweepOnce(deps, { publishGraceMs: 0 })],
    ['failure groups, all organizations', () => listFailureGroups(db, ALL_ORGANIZATIONS, { limit: 50 })],
    ['cleanup batch', () => deleteOldJobs(db, { cutoff: new Date(Date.now() - 90 * 86_400_000), organizationId: undefined, batchSize: 1000 })],
  ];
  for (const [label, run] of cases) {
    captured = [];
    await run();
    for (const { query, params } of captured.filter((c) => /job_executions/.test(c.query) && !/^\s*(insert|delete)/i.test(c.query))) {
      const plan = (await client.unsafe(`EXPLAIN ${query}`, params as never[])).map((r) => String(r['QUERY PLAN'])).join('\n');
      const scans = [...plan.matchAll(/(Seq Scan|Index Only Scan|Index Scan|Bitmap Index Scan)(?: Backward)?(?: using (\S+))?(?: on (\S+))?/g)]
        .filter((m) => (m[2] ?? m[3])?.startsWith('job_executions'))
        .map((m) => (m[1] === 'Seq Scan' ? 'SEQ SCAN' : (m[2] ?? m[3])));
      const whole = scans.includes('SEQ SCAN');
      failed ||= whole;
      if (process.env.PLANS) console.log(plan);
      console.log(`${whole ? '✗' : '✓'} ${label}: ${[...new Set(scans)].join(', ') || '(no job_executions scan)'}  — ${query.replace(/\s+/g, ' ').slice(0, 90)}`);
    }
  }
  const [size] = await client`SELECT count(*)::int AS n, pg_size_pretty(pg_total_relation_size('job_executions')) AS size FROM job_executions`;
  console.log(`rows=${size?.n} size=${size?.size}`);
} finally {
  await client.end({ timeout: 5 });
  psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}
process.exit(failed ? 1 : 0);
