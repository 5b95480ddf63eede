import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForJob } from '../../client/waitForJob.ts';
import type { Db } from '../../server/db/database.ts';
import type { JobHandler } from '../../server/jobs/handlers.ts';
import { startTestServer, type TestServer } from '../support/testServer.ts';

// Handler runs per recipient, counted where the handler runs (the fault is in what follows it).
const runs = new Map<string, number>();
let db: Db;
const email: JobHandler<'send-email'> = async (payload) => {
  runs.set(payload.to, (runs.get(payload.to) ?? 0) + 1);
  // A handler that reads the database while it is away (injected: the function raises 57P01).
  if (payload.to.startsWith('db-away')) await db.execute(sql`SELECT fault_database_away()`);
  return { to: payload.to };
};

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ handlers: { 'send-email': email } });
  db = t.server.database.db;
  // Injected faults, counted by sequences (a sequence is not rolled back with the failed statement).
  await db.execute(sql`CREATE SEQUENCE fault_away_seq`);
  await db.execute(sql`CREATE SEQUENCE fault_settle_seq`);
  await db.execute(sql`
    CREATE FUNCTION fault_database_away() RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
      IF nextval('fault_away_seq') <= 3 THEN
        RAISE EXCEPTION 'terminating connection due to administrator command' USING ERRCODE = '57P01';
      END IF;
    END $$`);
  // The first two completion writes of a settle-fault job fail as if the connection broke.
  await db.execute(sql`
    CREATE FUNCTION fault_settle() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.status = 'completed' AND NEW.payload->>'to' LIKE 'settle-fault%' AND nextval('fault_settle_seq') <= 2 THEN
        RAISE EXCEPTION 'connection failure' USING ERRCODE = '08006';
      END IF;
      RETURN NEW;
    END $$`);
  await db.execute(sql`CREATE TRIGGER fault_settle BEFORE UPDATE ON job_executions FOR EACH ROW EXECUTE FUNCTION fault_settle()`);
});
afterAll(async () => t?.stop());

const email1 = (to: string, retries?: number) => ({
  type: 'send-email' as const,
  payload: { to, template: 'welcome' as const, data: { recipientName: 'Ada' } },
  ...(retries === undefined ? {} : { options: { retries } }),
});

async function timeline(jobId: string) {
  const rows = await db.execute(sql`SELECT status, retry_count, message FROM job_events WHERE job_id = ${jobId} ORDER BY id`);
  return (Array.isArray(rows) ? rows : (rows as { rows: unknown[] }).rows) as Array<{ status: string; retry_count: number; message: string | null }>;
}

describe('a settle that fails', () => {
  it('is retried on its own: the handler runs once and the job completes once', async () => {
    const client = await t.client();
    const { jobId } = await client.jobs.enqueue.mutate(email1('settle-fault@example.com'));
    const job = await waitForJob(client, jobId, { timeout: 20_000 });
    expect(job).toMatchObject({ status: 'completed', retryCount: 0 });
    expect(runs.get('settle-fault@example.com')).toBe(1);
    expect((await timeline(jobId)).map((e) => e.status)).toEqual(['pending', 'processing', 'completed']);
  });
});

describe('an attempt that meets an unavailable database', () => {
  it('does not count against the job: three such failures with one retry allowed still complete, retry count 0', async () => {
    const client = await t.client();
    const { jobId } = await client.jobs.enqueue.mutate(email1('db-away@example.com', 1));
    const job = await waitForJob(client, jobId, { timeout: 25_000 });
    expect(job).toMatchObject({ status: 'completed', retryCount: 0 });
    expect(runs.get('db-away@example.com')).toBe(4);
    const events = await timeline(jobId);
    expect(events.filter((e) => e.status === 'retrying').map((e) => [e.retry_count, e.message])).toEqual(
      Array.from({ length: 3 }, () => [0, 'database unavailable during the attempt; not counted']),
    );
  });
});
