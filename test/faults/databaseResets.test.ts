import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobHandler } from '../../server/jobs/handlers.ts';
import { TEST_DRIVER } from '../support/testDatabase.ts';
import { startTestServer, waitFor, type TestServer } from '../support/testServer.ts';
import { jobStates } from './support/jobStates.ts';
import { proxiedTestDatabase, type ProxiedDatabase } from './support/proxiedDatabase.ts';

const runs = new Map<string, number>();
const email: JobHandler<'send-email'> = async (_payload, ctx) => {
  runs.set(ctx.jobId, (runs.get(ctx.jobId) ?? 0) + 1);
  return {};
};
const welcome = (i: number) => ({ type: 'send-email' as const, payload: { to: `u${i}@example.com`, template: 'welcome' as const, data: { recipientName: 'Ada' } }, idempotencyKey: `reset-${i}` });
const status = async (url: string) => (await fetch(url).catch(() => undefined))?.status;

// A proxy between the server and PostgreSQL, so the database can go away for this server alone.
let db: ProxiedDatabase;
let t: TestServer;
beforeAll(async () => {
  if (TEST_DRIVER !== 'postgres') return;
  db = await proxiedTestDatabase();
  // No enqueue rate limit: calls cut by a reset are retried, and each retry would spend it.
  t = await startTestServer({ database: { url: db.url, stallTimeoutMs: 2_000 }, handlers: { 'send-email': email }, security: { enqueueRateLimit: null } });
});
afterAll(async () => {
  await t?.stop();
  await db?.close();
});

async function enqueueAll(count: number, from = 0): Promise<string[]> {
  const client = await t.client();
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      // A call cut by a reset is retried with its idempotency key, as a caller would.
      for (let attempt = 1; ; attempt++) {
        const result = await client.jobs.enqueue.mutate(welcome(from + i)).catch((error: unknown) => {
          if (attempt >= 50) throw error;
        });
        if (result) return result.jobId;
        await new Promise((r) => setTimeout(r, 100));
      }
    }),
  );
}

describe.skipIf(TEST_DRIVER !== 'postgres')('the server while PostgreSQL terminates its connections', () => {
  it('stays up, answers /healthz throughout, and runs every job once without spending its attempts', async () => {
    const admin = postgres(db.directUrl, { max: 1, onnotice: () => {} });
    let stop = false;
    const healthz: Array<number | undefined> = [];
    const killing = (async () => {
      while (!stop) {
        await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`.catch(() => {});
        healthz.push(await status(`${t.server.url}/healthz`));
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
    try {
      const ids = await enqueueAll(20);
      await new Promise((r) => setTimeout(r, 1_000));
      // The resets go on for at least eight rounds, however fast the enqueues got through them.
      await waitFor(() => healthz.length >= 8, { timeout: 30_000, interval: 100 });
      stop = true;
      await killing;
      await waitFor(async () => (await jobStates(t.server.database.db, ids)).every((j) => j.status === 'completed'), { timeout: 60_000, interval: 200 });
      expect((await jobStates(t.server.database.db, ids)).every((j) => j.retry_count === 0)).toBe(true);
      expect(ids.map((id) => runs.get(id))).toEqual(ids.map(() => 1));
      expect(healthz.length).toBeGreaterThanOrEqual(8);
      expect(healthz.every((s) => s === 200)).toBe(true);
    } finally {
      stop = true;
      await admin.end();
    }
  }, 120_000);

  it('reports not ready while the database is away, keeps /healthz, and resumes when it is back', async () => {
    db.proxy.mode('down');
    await waitFor(async () => (await status(`${t.server.url}/readyz`)) === 503, { timeout: 30_000 });
    expect(await status(`${t.server.url}/healthz`)).toBe(200);
    db.proxy.mode('forward');
    await waitFor(async () => (await status(`${t.server.url}/readyz`)) === 200, { timeout: 30_000 });
    const ids = await enqueueAll(5, 100);
    await waitFor(async () => (await jobStates(t.server.database.db, ids)).every((j) => j.status === 'completed'), { timeout: 60_000, interval: 200 });
  }, 120_000);

  it('cuts connections that went half-open and recovers on new ones', async () => {
    db.proxy.mode('freeze'); // every open connection stops forwarding, new ones pass
    db.proxy.mode('forward');
    // The frozen connections are cut after stallTimeoutMs (2 s); jobs enqueued meanwhile complete.
    const ids = await enqueueAll(10, 200);
    await waitFor(async () => (await jobStates(t.server.database.db, ids)).every((j) => j.status === 'completed'), { timeout: 60_000, interval: 200 });
    expect((await jobStates(t.server.database.db, ids)).every((j) => j.retry_count === 0)).toBe(true);
  }, 120_000);
});
