import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { watchJob } from '../../client/watchJob.ts';
import { queryRows } from '../../server/db/database.ts';
import type { JobEvent } from '../../shared/jobEvent.ts';
import { TEST_DRIVER } from '../support/testDatabase.ts';
import { startTestServer, waitFor, type TestServer } from '../support/testServer.ts';

// PGlite runs in-process: there is no listening connection that can drop.
describe.runIf(TEST_DRIVER === 'postgres')('when the LISTEN connection drops', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t?.stop());

  it('subscribers catch up on what was committed while it was down', async () => {
    const client = await t.client({ organizationId: 41 });
    const { jobId } = await client.jobs.enqueue.mutate({
      type: 'send-email',
      payload: { to: 'gap@example.com', template: 'welcome', data: { recipientName: 'Gap' } },
      options: { delay: 60_000 },
    });
    const perJob: JobEvent[] = [];
    const perOrg: JobEvent[] = [];
    const job = watchJob(client, jobId, { onEvent: (e) => perJob.push(e) });
    const org = client.jobs.onEvents.subscribe({}, { onData: ({ data }) => void perOrg.push(data) });
    await waitFor(() => perJob.length === 1 && t.server.jobs.events.subscriberCount === 2);

    const killed = await queryRows<{ killed: boolean }>(
      t.server.database.db,
      sql`SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'listen%'`,
    );
    expect(killed.length).toBeGreaterThan(0);
    // Committed while nobody listens: its NOTIFY is lost.
    await client.jobs.cancel.mutate({ jobId });

    await waitFor(() => perJob.some((e) => e.status === 'cancelled') && perOrg.some((e) => e.status === 'cancelled'), { timeout: 20_000 });
    expect(perJob.map((e) => e.status)).toEqual(['pending', 'cancelled']);
    expect(perOrg.filter((e) => e.jobId === jobId).map((e) => e.status)).toEqual(['cancelled']);
    job.unsubscribe();
    org.unsubscribe();
  });
});
