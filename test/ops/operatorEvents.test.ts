/** An operator's `jobs.onEvents`: every organization's events and those of jobs of none, narrowed by organizationId (issue 11 §1). */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobsClient, type JobsClient } from '../../client/createJobsClient.ts';
import { waitForJob } from '../../client/waitForJob.ts';
import { queryRows } from '../../server/db/database.ts';
import { enqueueJob } from '../../server/jobs/enqueueJob.ts';
import type { JobEvent } from '../../shared/jobEvent.ts';
import { startTestServer, trpcCode, waitFor, type TestServer } from '../support/testServer.ts';
import { operatorToken } from './support/insertJobs.ts';

let t: TestServer;
let operator: JobsClient;
beforeAll(async () => {
  t = await startTestServer();
  operator = createJobsClient({ url: `${t.server.url}/trpc`, token: await operatorToken() });
});
afterAll(async () => t?.stop());

const email = (to: string) => ({ type: 'send-email' as const, payload: { to, template: 'welcome' as const } });

type OnEventsInput = Parameters<JobsClient['jobs']['onEvents']['subscribe']>[0];
/** Collects a stream in the background; `error` is the code it failed with, if it did. */
function record(client: JobsClient, input: OnEventsInput = {}) {
  const s = { events: [] as JobEvent[], error: undefined as string | undefined, stop: () => {} };
  const sub = client.jobs.onEvents.subscribe(input, { onData: ({ data }) => void s.events.push(data), onError: (e) => void (s.error = trpcCode(e)) });
  s.stop = () => sub.unsubscribe();
  return s;
}
const jobsOf = (events: JobEvent[]) => new Set(events.map((e) => e.jobId));
const completed = (events: JobEvent[], jobIds: string[]) => jobIds.every((id) => events.some((e) => e.jobId === id && e.status === 'completed'));
const timeline = async (jobIds: string[]) =>
  (await queryRows<{ id: string }>(t.server.database.db, sql`SELECT id::text FROM job_events WHERE job_id IN (${sql.join(jobIds.map((id) => sql`${id}::uuid`), sql`, `)}) ORDER BY id`)).map((r) => r.id);

describe("an operator's jobs.onEvents", () => {
  let a = '';
  let b = '';
  let none = '';

  it('streams every organization and the jobs of none; organizationId narrows it; a tenant sees its own only', async () => {
    const admin821 = await t.client({ organizationId: 821, role: 'admin' });
    const admin822 = await t.client({ organizationId: 822, role: 'admin' });
    const all = record(operator);
    const only821 = record(operator, { organizationId: 821 });
    const ofNone = record(operator, { organizationId: null });
    const completedOnly = record(operator, { status: 'completed' });
    const tenant = record(admin821);
    const tenantOwn = record(admin821, { organizationId: 821 });
    await waitFor(() => t.server.jobs.events.subscriberCount === 6);

    ({ jobId: a } = await admin821.jobs.enqueue.mutate(email('a@example.com')));
    ({ jobId: b } = await admin822.jobs.enqueue.mutate(email('b@example.com')));
    // Server code's job: no organization.
    ({ jobId: none } = await enqueueJob(t.server.jobs, email('none@example.com')));
    await waitForJob(admin821, a);
    await waitForJob(admin822, b);
    await waitFor(() => completed(all.events, [a, b, none]) && completed(only821.events, [a]) && completed(ofNone.events, [none]) && completed(tenant.events, [a]) && completed(tenantOwn.events, [a]));
    await waitFor(() => completedOnly.events.length === 3);

    expect(jobsOf(all.events)).toEqual(new Set([a, b, none]));
    expect(all.events.filter((e) => e.jobId === none).map((e) => e.status)).toEqual(['pending', 'processing', 'completed']);
    // Every event once (commit order may differ from id order across jobs).
    expect(all.events.map((e) => e.eventId).sort((x, y) => Number(x) - Number(y))).toEqual(await timeline([a, b, none]));
    expect(jobsOf(only821.events)).toEqual(new Set([a]));
    expect(jobsOf(ofNone.events)).toEqual(new Set([none]));
    expect(jobsOf(completedOnly.events)).toEqual(new Set([a, b, none]));
    expect(jobsOf(tenant.events)).toEqual(new Set([a]));
    expect(jobsOf(tenantOwn.events)).toEqual(new Set([a]));
    for (const s of [all, only821, ofNone, completedOnly, tenant, tenantOwn]) s.stop();
    await waitFor(() => t.server.jobs.events.subscriberCount === 0);
  });

  it('replays from lastEventId across organizations, and within the filter', async () => {
    const events = await timeline([a, b, none]);
    const resumed = record(operator, { lastEventId: events[0]! });
    const resumed822 = record(operator, { lastEventId: events[0]!, organizationId: 822 });
    await waitFor(() => resumed.events.length >= events.length - 1 && completed(resumed822.events, [b]));
    resumed.stop();
    resumed822.stop();
    expect(resumed.events.map((e) => e.eventId)).toEqual(events.slice(1));
    expect(resumed822.events.map((e) => e.eventId)).toEqual((await timeline([b])).filter((id) => id !== events[0]));
  });

  it("refuses a tenant's organizationId other than its own, as jobs.list does", async () => {
    const admin821 = await t.client({ organizationId: 821, role: 'admin' });
    const member821 = await t.client({ organizationId: 821, role: 'member', userId: '2' });
    for (const input of [{ organizationId: 822 }, { organizationId: null }] as const) {
      for (const client of [admin821, member821]) {
        const s = record(client, input);
        await waitFor(() => s.error);
        s.stop();
        expect(s.error).toBe('FORBIDDEN');
        expect(await client.jobs.list.query(input).then(() => 'ok', trpcCode)).toBe('FORBIDDEN');
      }
    }
  });
});
