/**
 * The seed's SQL ("Monitoring & Debugging", "Error Information", "Performance Optimization"),
 * copied verbatim and run against a server's database holding completed, failed and pending jobs.
 */
import { inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_TYPES } from '../../shared/catalogue.ts';
import { queryRows } from '../../server/db/database.ts';
import { jobExecutions } from '../../server/db/schema.ts';
import { NonRetryableJobError } from '../../server/jobs/errors.ts';
import { startTestServer, waitFor, type TestServer } from '../support/testServer.ts';

const RECENT_JOBS = `-- Recent jobs
SELECT
  job_id,
  job_type,
  status,
  retry_count,
  created_at,
  completed_at
FROM job_executions
ORDER BY created_at DESC
LIMIT 50;`;

const FAILED_JOBS = `-- Failed jobs
SELECT
  job_id,
  job_type,
  error,
  retry_count,
  payload
FROM job_executions
WHERE status = 'failed'
ORDER BY created_at DESC;`;

const STATS_BY_TYPE = `-- Job statistics by type
SELECT
  job_type,
  status,
  COUNT(*) as count,
  AVG(EXTRACT(EPOCH FROM (completed_at - started_at))) as avg_duration_seconds
FROM job_executions
WHERE completed_at IS NOT NULL
GROUP BY job_type, status;`;

const ERROR_INFORMATION = `SELECT job_id, error, retry_count
FROM job_executions
WHERE status = 'failed'
ORDER BY created_at DESC;`;

const INDEXES = `-- Index for job queries
CREATE INDEX idx_job_executions_status ON job_executions(status);
CREATE INDEX idx_job_executions_created_at ON job_executions(created_at DESC);
CREATE INDEX idx_job_executions_user_id ON job_executions(user_id);
CREATE INDEX idx_job_executions_organization_id ON job_executions(organization_id);

-- Composite index for common queries
CREATE INDEX idx_job_executions_status_created ON job_executions(status, created_at DESC);`;

let t: TestServer;
const completed: string[] = [];
const failed: string[] = [];
let pending: string;

const run = (text: string) => queryRows<Record<string, unknown>>(t.server.database.db, sql.raw(text));

beforeAll(async () => {
  t = await startTestServer({
    handlers: {
      'send-email': async (payload) => {
        if (payload.to.startsWith('fail')) throw new NonRetryableJobError(`mailbox ${payload.to} does not exist`);
        return { delivered: payload.to };
      },
    },
  });
  const enqueue = (to: string, delay?: number) =>
    t.server.dispatcher.enqueue(JOB_TYPES.SEND_EMAIL, { template: 'welcome', to, data: {} }, { userId: 123, organizationId: 456 }, delay ? { delay } : {});
  // One at a time, so created_at orders them.
  for (const to of ['ok1@example.com', 'ok2@example.com', 'ok3@example.com']) completed.push(await enqueue(to));
  for (const to of ['fail1@example.com', 'fail2@example.com']) failed.push(await enqueue(to));
  pending = await enqueue('later@example.com', 3_600_000);
  await waitFor(async () => {
    const rows = await t.server.database.db.select().from(jobExecutions).where(inArray(jobExecutions.id, [...completed, ...failed]));
    return rows.length === 5 && rows.every((r) => r.status === 'completed' || r.status === 'failed');
  });
});
afterAll(async () => t?.stop());

describe('seed SQL: Monitoring & Debugging', () => {
  it('"Recent jobs" lists the jobs newest first with the seed’s columns', async () => {
    const rows = await run(RECENT_JOBS);
    expect(rows.map((r) => Object.keys(r))).toEqual(rows.map(() => ['job_id', 'job_type', 'status', 'retry_count', 'created_at', 'completed_at']));
    expect(rows.map((r) => r.job_id)).toEqual([pending, ...failed.toReversed(), ...completed.toReversed()]);
    expect(rows.map((r) => r.status)).toEqual(['pending', 'failed', 'failed', 'completed', 'completed', 'completed']);
    expect(rows.every((r) => r.job_type === 'send-email' && Number(r.retry_count) === 0)).toBe(true);
    expect(rows[0]!.completed_at).toBeNull();
    expect(rows.slice(1).every((r) => r.completed_at !== null)).toBe(true);
  });

  it('"Failed jobs" shows each failed job’s error and payload', async () => {
    const rows = await run(FAILED_JOBS);
    expect(rows.map((r) => Object.keys(r))).toEqual([['job_id', 'job_type', 'error', 'retry_count', 'payload'], ['job_id', 'job_type', 'error', 'retry_count', 'payload']]);
    expect(rows.map((r) => r.job_id)).toEqual(failed.toReversed());
    expect(rows[0]).toMatchObject({
      job_type: 'send-email',
      error: { name: 'NonRetryableJobError', message: 'mailbox fail2@example.com does not exist' },
      payload: { template: 'welcome', to: 'fail2@example.com' },
    });
  });

  it('"Job statistics by type" counts and times the finished jobs per type and status', async () => {
    const rows = await run(STATS_BY_TYPE);
    const byStatus = Object.fromEntries(rows.map((r) => [r.status, r]));
    expect(rows.map((r) => Object.keys(r))).toEqual(rows.map(() => ['job_type', 'status', 'count', 'avg_duration_seconds']));
    expect(Object.keys(byStatus).sort()).toEqual(['completed', 'failed']);
    expect(Number(byStatus.completed!.count)).toBe(3);
    expect(Number(byStatus.failed!.count)).toBe(2);
    for (const row of rows) {
      expect(row.job_type).toBe('send-email');
      expect(Number(row.avg_duration_seconds)).toBeGreaterThanOrEqual(0);
      expect(Number(row.avg_duration_seconds)).toBeLessThan(30);
    }
  });
});

describe('seed SQL: Error Information', () => {
  it('returns job_id, error and retry_count of the failed jobs, newest first', async () => {
    const rows = await run(ERROR_INFORMATION);
    expect(rows).toEqual(
      failed.toReversed().map((jobId) => ({
        job_id: jobId,
        error: { name: 'NonRetryableJobError', message: expect.stringMatching(/^mailbox fail\d@example\.com does not exist$/) },
        retry_count: 0,
      })),
    );
  });
});

describe('seed SQL: Performance Optimization', () => {
  it('creates the five indexes as written, and the queries still answer', async () => {
    for (const statement of INDEXES.split(';').map((s) => s.trim()).filter((s) => s.replace(/--.*$/gm, '').trim())) await run(statement);
    const names = await run(`SELECT indexname FROM pg_indexes WHERE tablename = 'job_executions' AND indexname LIKE 'idx_%' ORDER BY indexname`);
    expect(names.map((r) => r.indexname)).toEqual([
      'idx_job_executions_created_at',
      'idx_job_executions_organization_id',
      'idx_job_executions_status',
      'idx_job_executions_status_created',
      'idx_job_executions_user_id',
    ]);
    expect(await run(ERROR_INFORMATION)).toHaveLength(2);
    expect(await run(RECENT_JOBS)).toHaveLength(6);
  });
});
