import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForJob } from '../../client/waitForJob.ts';
import { startBroker, type Broker } from '../../server/broker/startBroker.ts';
import { jobExecutions } from '../../server/db/schema.ts';
import { claimJob } from '../../server/jobs/claimJob.ts';
import { enqueueJob } from '../../server/jobs/enqueueJob.ts';
import { startTestServer, waitFor, type TestServer } from '../support/testServer.ts';

let t: TestServer;
/** The broker started in place of the server's own after the outage test stops that one. */
let restarted: Broker | undefined;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await restarted?.stop();
  await t?.stop();
});

const email = (to: string) => ({ type: 'send-email' as const, payload: { to, template: 'welcome' as const, data: { recipientName: 'O' } } });

describe('durable acceptance (transactional outbox)', () => {
  it('delivers a job enqueued while the broker was down once the broker is back', async () => {
    const broker = t.server.broker!;
    const port = broker.port;
    await broker.stop();
    const client = await t.client();
    const { jobId } = await client.jobs.enqueue.mutate(email('outage@example.com'));
    const [row] = await t.server.database.db.select().from(jobExecutions).where(eq(jobExecutions.id, jobId));
    expect(row).toMatchObject({ status: 'pending', messageId: null });

    const storage = t.server.database.pglite ? { pglite: t.server.database.pglite } : { url: t.server.database.url! };
    restarted = await startBroker({ port, storage });
    const job = await waitForJob(client, jobId, { timeout: 20_000 });
    expect(job.status).toBe('completed');
    expect((await t.server.mailbox!.list()).filter((m) => m.to === 'outage@example.com')).toHaveLength(1);
  });

  it("commits a job inside the caller's transaction only, and the sweeper publishes it", async () => {
    const db = t.server.database.db;
    const rolledBack = await db
      .transaction(async (tx) => {
        await enqueueJob(t.server.jobs, { ...email('rollback@example.com'), metadata: { organizationId: 1 } }, tx);
        throw new Error('business logic failed');
      })
      .catch((e: unknown) => e);
    expect(rolledBack).toBeInstanceOf(Error);
    expect(await db.$count(jobExecutions, sql`${jobExecutions.payload}->>'to' = 'rollback@example.com'`)).toBe(0);

    await db.transaction(async (tx) => {
      await enqueueJob(t.server.jobs, { ...email('committed@example.com'), metadata: { organizationId: 1 } }, tx);
    });
    await waitFor(async () => (await t.server.mailbox!.list()).some((m) => m.to === 'committed@example.com'));
  });
});

describe('bounded recovery of a crashed attempt', () => {
  it('retries a job whose worker died mid-attempt once its lease lapses', async () => {
    const client = await t.client();
    const { jobId } = await client.jobs.enqueue.mutate({ ...email('crash@example.com'), options: { delay: 60_000 } });
    // A worker claims the job and dies without settling: its lease runs out.
    expect(await claimJob(t.server.database.db, jobId, crypto.randomUUID())).toBeDefined();
    await t.server.database.db.update(jobExecutions).set({ leaseUntil: sql`now() - interval '1 second'` }).where(eq(jobExecutions.id, jobId));
    const job = await waitForJob(client, jobId, { timeout: 20_000 });
    expect(job).toMatchObject({ status: 'completed', retryCount: 1 });
    await waitFor(async () => (await t.server.mailbox!.list()).some((m) => m.to === 'crash@example.com'));
  });
});
