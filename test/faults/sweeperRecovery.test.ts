import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobExecutions } from '../../server/db/schema.ts';
import type { JobPublisher, JobsDeps, PublishRequest } from '../../server/jobs/deps.ts';
import { enqueueJobs } from '../../server/jobs/enqueueJob.ts';
import { startSweeper, sweepOnce } from '../../server/jobs/sweeper.ts';
import { startTestServer, waitFor, type TestServer } from '../support/testServer.ts';

/**
 * How fast the sweeper publishes rows whose publish failed (issue 15: drains after a database
 * restart and after a broker outage). The server's own sweeper is idled; each test runs one of its
 * own with a publisher that records what it is asked and fails while `down`.
 */
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ sweeper: { intervalMs: 3_600_000, publishGraceMs: 3_600_000 } });
});
afterAll(async () => t?.stop());

function recordingPublisher(base: JobPublisher) {
  const calls = { single: 0, batch: 0 };
  let down = true;
  let next = 0;
  const answer = () => {
    if (down) throw new Error('fetch failed: broker away');
    return { messageId: `msg_test_${next++}` };
  };
  // Schedules are never touched here: the server's own publisher stands in for them.
  const publisher: JobPublisher = {
    ...base,
    async publish() {
      calls.single++;
      return answer();
    },
    async publishBatch(requests: readonly PublishRequest[]) {
      calls.batch++;
      return requests.map(answer);
    },
  };
  return { publisher, calls, up: () => (down = false) };
}

const emails = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => ({
    type: 'send-email' as const,
    payload: { to: `${tag}-${i}@example.com`, template: 'welcome' as const, data: { recipientName: 'S' } },
    metadata: { organizationId: 1 },
  }));

async function unpublished(ids: string[]) {
  const rows = await t.server.database.db.select({ messageId: jobExecutions.messageId }).from(jobExecutions).where(inArray(jobExecutions.id, ids));
  return rows.filter((r) => r.messageId === null).length;
}

describe('the sweeper after a publish failed', () => {
  it("publishes a row whose enqueue's publish failed within seconds, not after its grace and the 10 s interval", async () => {
    const fake = recordingPublisher(t.server.jobs.publisher);
    const deps: JobsDeps = { ...t.server.jobs, publisher: fake.publisher };
    const sweeper = startSweeper(deps); // defaults: 10 s interval, 5 s grace, 1 s probe
    try {
      await new Promise((resolve) => setTimeout(resolve, 200)); // its start pass found nothing
      const [result] = await enqueueJobs(deps, emails(1, 'failed-publish')); // the publish fails (broker away)
      const jobId = result!.ok ? result!.jobId : '';
      expect(await unpublished([jobId])).toBe(1);
      fake.up(); // the broker is back, but no other publish comes to say so
      const started = Date.now();
      await waitFor(async () => (await unpublished([jobId])) === 0, { timeout: 8_000, interval: 100 });
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      await sweeper.stop();
    }
  });
});

describe('the sweeper draining a backlog', () => {
  it('publishes the rest of a batch in one /v2/batch call once its first publish got through', async () => {
    const fake = recordingPublisher(t.server.jobs.publisher);
    const deps: JobsDeps = { ...t.server.jobs, publisher: fake.publisher };
    const results = await enqueueJobs(deps, emails(250, 'backlog'));
    const ids = results.map((r) => (r.ok ? r.jobId : ''));
    expect(await unpublished(ids)).toBe(250);
    fake.up();
    const before = { ...fake.calls };
    const swept = await sweepOnce(deps, { publishGraceMs: 0 });
    expect(swept).toMatchObject({ published: 250, brokerUnreachable: false });
    expect(await unpublished(ids)).toBe(0);
    // Three batches of 100, 100, 50: one probe publish and one batch call each.
    expect({ single: fake.calls.single - before.single, batch: fake.calls.batch - before.batch }).toEqual({ single: 3, batch: 3 });
    const [row] = await t.server.database.db.select().from(jobExecutions).where(eq(jobExecutions.id, ids[0]!));
    expect(row!.messageId).toMatch(/^msg_test_/);
  });
});
