import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobHandler } from '../../server/jobs/handlers.ts';
import { TEST_DRIVER } from '../support/testDatabase.ts';
import { startTestServer, waitFor, type TestServer } from '../support/testServer.ts';
import { jobStates } from './support/jobStates.ts';
import { proxiedTestDatabase, type ProxiedDatabase } from './support/proxiedDatabase.ts';

const JOBS = 200;
/** As in production, far above how long a frozen connection may hold a job: the server asks PostgreSQL instead. */
const STALL_MS = 20_000;
const runs = new Map<string, number>();
const email: JobHandler<'send-email'> = async (_payload, ctx) => {
  runs.set(ctx.jobId, (runs.get(ctx.jobId) ?? 0) + 1);
  return {};
};
const welcome = (i: number) => ({ type: 'send-email' as const, payload: { to: `u${i}@example.com`, template: 'welcome' as const, data: { recipientName: 'Ada' } }, idempotencyKey: `half-open-${i}` });

// The app's pool, the embedded broker's and the LISTEN connection all reach PostgreSQL through this proxy.
let db: ProxiedDatabase;
let t: TestServer;
beforeAll(async () => {
  if (TEST_DRIVER !== 'postgres') return;
  db = await proxiedTestDatabase();
  t = await startTestServer({ database: { url: db.url, stallTimeoutMs: STALL_MS }, handlers: { 'send-email': email }, security: { enqueueRateLimit: null } });
});
afterAll(async () => {
  await t?.stop();
  await db?.close();
});

/** Enqueues jobs `from`..`to` with 25 callers, each call retried with its idempotency key until acknowledged. */
async function enqueueAll(ids: Map<number, string>, from: number, to: number) {
  const client = await t.client();
  let next = from;
  await Promise.all(
    Array.from({ length: 25 }, async () => {
      while (next < to) {
        const i = next++;
        for (let attempt = 1; !ids.has(i); attempt++) {
          const result = await client.jobs.enqueue.mutate(welcome(i)).catch((error: unknown) => {
            if (attempt >= 100) throw error;
          });
          if (result) ids.set(i, result.jobId);
          else await new Promise((r) => setTimeout(r, 100));
        }
      }
    }),
  );
}

describe.skipIf(TEST_DRIVER !== 'postgres')('the server when its path to PostgreSQL goes half-open under load', () => {
  it('finds the frozen connections within seconds and completes every job once, its attempts untouched', async () => {
    const ids = new Map<number, string>();
    const loading = enqueueAll(ids, 0, JOBS);
    await waitFor(() => runs.size >= 50, { timeout: 60_000, interval: 20 });
    // Every open connection (claims, settles, the broker's bookkeeping, enqueues in flight) freezes; new ones pass.
    db.proxy.mode('freeze');
    db.proxy.mode('forward');
    const frozen = Date.now();
    await loading;
    const all = [...ids.values()];
    // Before, every frozen connection was found only by the stall timeout (20 s here, 15 s in
    // production); the suite's full run also lost deliveries whose claim was retried onto a
    // connection as it was cut (postgres.js left the query waiting forever).
    await waitFor(async () => (await jobStates(t.server.database.db, all)).every((j) => j.status === 'completed'), { timeout: Math.max(0, frozen + STALL_MS / 2 - Date.now()), interval: 200 }).catch(async () => {
      const states = await jobStates(t.server.database.db, all);
      throw new Error(`${states.filter((j) => j.status !== 'completed').length} of ${JOBS} jobs not completed ${Date.now() - frozen} ms after the freeze`);
    });
    expect((await jobStates(t.server.database.db, all)).every((j) => j.retry_count === 0)).toBe(true);
    expect(all.filter((id) => runs.get(id) !== 1)).toEqual([]);
  }, 90_000);
});
