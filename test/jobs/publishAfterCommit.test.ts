/**
 * `enqueue` answers once the job's row is committed (durable acceptance) and publishes it just
 * after (server/jobs/publishBatcher.ts `accept`), so a caller does not wait for the broker's
 * round trip; while the publish backlog is long, the caller waits for its own publish.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { queryRows } from '../../server/db/database.ts';
import { enqueueJob, enqueueJobs } from '../../server/jobs/enqueueJob.ts';
import { MAX_PUBLISH_BACKLOG, publishBatcher } from '../../server/jobs/publishBatcher.ts';
import { serverOnFakeBroker, startFakeQStash } from '../ops/support/fakeQStash.ts';
import { startTestServer } from '../support/testServer.ts';

// A broker that answers only when the test says so; no sweeper pass publishes behind the test's back.
const t = serverOnFakeBroker();

const email = (to: string) => ({ type: 'send-email', payload: { to, template: 'welcome', data: { recipientName: 'P' } } });
const STILL_WAITING = 'still waiting';
const within = <T>(ms: number, promise: Promise<T>) => Promise.race([promise, new Promise<typeof STILL_WAITING>((resolve) => setTimeout(() => resolve(STILL_WAITING), ms))]);
const publishState = async (jobId: string) => {
  const [row] = await queryRows<{ published: boolean; message_id: string | null }>(
    t().server.database.db,
    sql`SELECT published_at IS NOT NULL AS published, message_id FROM job_executions WHERE job_id = ${jobId}`,
  );
  return row;
};

const committed = async (to: string) => {
  const [row] = await queryRows<{ n: number }>(t().server.database.db, sql`SELECT count(*)::int AS n FROM job_executions WHERE payload->>'to' = ${to}`);
  return row?.n;
};

describe('enqueue answers after the commit, before the publish', () => {
  it('answers while the broker has not answered yet; the job is published when it does', async () => {
    const deps = t().server.jobs;
    const release = t().broker.hold();
    const publishedBefore = t().broker.published.length;
    try {
      const answer = await within(5_000, enqueueJob(deps, email('after-commit@example.com')));
      expect(answer).not.toBe(STILL_WAITING);
      const { jobId } = answer as Exclude<typeof answer, typeof STILL_WAITING>;
      // Durable: the row is there, not yet published.
      expect(await publishState(jobId)).toEqual({ published: false, message_id: null });
      release();
      await publishBatcher(deps).flush();
      const state = await publishState(jobId);
      expect(state?.published).toBe(true);
      const sent = t().broker.published.slice(publishedBefore);
      expect(sent.map((p) => (p.body as { jobId: string }).jobId)).toEqual([jobId]);
      expect(state?.message_id).toBe(sent[0]!.messageId);
    } finally {
      release();
    }
  });

  it('makes callers wait for their own publish once the backlog is full', async () => {
    const deps = t().server.jobs;
    const release = t().broker.hold();
    try {
      // Up to the bound: answered without the broker.
      const filling = Array.from({ length: MAX_PUBLISH_BACKLOG }, (_, i) => email(`backlog-${i}@example.com`));
      const filled = await within(30_000, enqueueJobs(deps, filling));
      expect(filled).not.toBe(STILL_WAITING);
      expect((filled as Exclude<typeof filled, typeof STILL_WAITING>).every((r) => r.ok)).toBe(true);
      // One more: committed, but its answer waits for the broker.
      let answered = false;
      const beyond = enqueueJob(deps, email('beyond-backlog@example.com')).finally(() => (answered = true));
      await expect.poll(() => committed('beyond-backlog@example.com'), { timeout: 10_000 }).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(answered).toBe(false);
      release();
      const { jobId } = await beyond;
      expect((await publishState(jobId))?.published).toBe(true);
    } finally {
      release();
    }
    await publishBatcher(deps).flush();
    const [left] = await queryRows<{ n: number }>(t().server.database.db, sql`SELECT count(*)::int AS n FROM job_executions WHERE published_at IS NULL`);
    expect(left?.n).toBe(0);
  }, 60_000);

  it('a server that stops publishes what it answered before it closes its database', async () => {
    const broker = await startFakeQStash();
    const own = await startTestServer({ qstash: broker.qstashConfig(), sweeper: { intervalMs: 3_600_000 } });
    try {
      const release = broker.hold();
      // The first publish is in flight (held by the broker), the second waits for it in the batcher.
      const first = await enqueueJob(own.server.jobs, email('at-stop-1@example.com'));
      const second = await enqueueJob(own.server.jobs, email('at-stop-2@example.com'));
      const stopping = own.stop();
      await new Promise((resolve) => setTimeout(resolve, 200));
      release();
      await stopping;
      // Both sent by the time stop() resolved: it waited for the publishes it owed.
      expect(broker.published.map((p) => (p.body as { jobId: string }).jobId)).toEqual([first.jobId, second.jobId]);
    } finally {
      await broker.close();
    }
  });
});
