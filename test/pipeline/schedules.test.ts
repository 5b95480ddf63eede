import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForJob } from '../../client/waitForJob.ts';
import { jobExecutions } from '../../server/db/schema.ts';
import { QSTASH_DEV_CURRENT_SIGNING_KEY } from '../../server/env.ts';
import { jobIdForMessage } from '../../server/jobs/recordFiring.ts';
import { signDelivery } from '../support/signDelivery.ts';
import { startTestServer, trpcCode, waitFor, type TestServer } from '../support/testServer.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => t?.stop());

const MINUTE = 60_000;
const payload = { to: 'digest@example.com', template: 'welcome' as const, data: { recipientName: 'Digest' } };

async function jobsOf(scheduleId: string) {
  return t.server.database.db.select().from(jobExecutions).where(eq(jobExecutions.scheduleId, scheduleId));
}

describe('schedules', () => {
  it('turns each firing into exactly one job, however often it is delivered', async () => {
    const client = await t.client({ organizationId: 5, userId: '8' });
    const { scheduleId } = await client.jobs.schedule.mutate({ type: 'send-email', cron: '*/5 * * * *', payload, timezone: 'Europe/Paris' });
    const listed = await client.jobs.schedules.list.query();
    expect(listed).toEqual([expect.objectContaining({ scheduleId, type: 'send-email', cron: '*/5 * * * *', timezone: 'Europe/Paris', paused: false, organizationId: 5 })]);

    const [firing] = await t.server.broker!.fireDueSchedules(Date.now() + 6 * MINUTE);
    expect(firing?.scheduleId).toBe(scheduleId);
    const messageId = firing!.messageIds[0]!;
    const jobId = jobIdForMessage(messageId);
    const job = await waitForJob(client, (await waitFor(async () => (await jobsOf(scheduleId))[0]))!.id);
    expect(job).toMatchObject({ jobId, status: 'completed', scheduleId, organizationId: 5, userId: '8', payload });

    // A replayed delivery of the same firing is the same job, and runs nothing.
    const body = JSON.stringify({ scheduleId, type: 'send-email' });
    const url = `${t.server.publicUrl}/api/jobs/email`;
    const replay = await fetch(url, {
      method: 'POST',
      headers: { 'upstash-signature': await signDelivery({ url, body, key: QSTASH_DEV_CURRENT_SIGNING_KEY }), 'upstash-message-id': messageId, 'upstash-schedule-id': scheduleId },
      body,
    });
    expect(replay.status).toBe(200);
    expect(await jobsOf(scheduleId)).toHaveLength(1);

    // The next firing is a new job.
    await t.server.broker!.fireDueSchedules(Date.now() + 12 * MINUTE);
    await waitFor(async () => (await jobsOf(scheduleId)).filter((j) => j.status === 'completed').length === 2);
    expect(new Set((await jobsOf(scheduleId)).map((j) => j.id)).size).toBe(2);
    expect((await t.server.mailbox!.list()).filter((m) => m.to === 'digest@example.com')).toHaveLength(2);
  });

  it('pauses, resumes and deletes a schedule', async () => {
    const client = await t.client({ organizationId: 6 });
    const { scheduleId } = await client.jobs.schedule.mutate({ type: 'send-email', cron: '0 * * * *', payload });
    await client.jobs.schedules.pause.mutate({ scheduleId });
    expect((await client.jobs.schedules.list.query())[0]?.paused).toBe(true);
    const whilePaused = await t.server.broker!.fireDueSchedules(Date.now() + 2 * 60 * MINUTE);
    expect(whilePaused.map((f) => f.scheduleId)).not.toContain(scheduleId);

    await client.jobs.schedules.resume.mutate({ scheduleId });
    expect((await client.jobs.schedules.list.query())[0]?.paused).toBe(false);
    const resumed = await t.server.broker!.fireDueSchedules(Date.now() + 4 * 60 * MINUTE);
    expect(resumed.map((f) => f.scheduleId)).toContain(scheduleId);
    await waitFor(async () => (await jobsOf(scheduleId)).length === 1);

    await client.jobs.schedules.delete.mutate({ scheduleId });
    expect(await client.jobs.schedules.list.query()).toEqual([]);
    expect(trpcCode(await client.jobs.schedules.delete.mutate({ scheduleId }).catch((e: unknown) => e))).toBe('NOT_FOUND');
  });

  it("bounds an organization's schedules, which bounds jobs.schedules.list", async () => {
    const small = await startTestServer({ maxSchedulesPerOrganization: 2 });
    try {
      const client = await small.client({ organizationId: 9 });
      const create = () => client.jobs.schedule.mutate({ type: 'send-email', cron: '0 1 * * *', payload });
      const [{ scheduleId }] = [await create(), await create()];
      const third = await create().catch((e: unknown) => e);
      expect(trpcCode(third)).toBe('BAD_REQUEST');
      expect((third as Error).message).toMatch(/at most 2 schedules/);
      expect(await client.jobs.schedules.list.query()).toHaveLength(2);
      // Other organizations have their own quota; deleting one frees a place.
      await (await small.client({ organizationId: 10 })).jobs.schedule.mutate({ type: 'send-email', cron: '0 1 * * *', payload });
      await client.jobs.schedules.delete.mutate({ scheduleId });
      await create();
    } finally {
      await small.stop();
    }
  });

  it('refuses a bad cron or time zone with BAD_REQUEST and records nothing', async () => {
    const client = await t.client({ organizationId: 7 });
    const badCron = await client.jobs.schedule.mutate({ type: 'send-email', cron: '61 * * * *', payload }).catch((e: unknown) => e);
    expect(trpcCode(badCron)).toBe('BAD_REQUEST');
    const fourFields = await client.jobs.schedule.mutate({ type: 'send-email', cron: '* * * *', payload }).catch((e: unknown) => e);
    expect(trpcCode(fourFields)).toBe('BAD_REQUEST');
    const badZone = await client.jobs.schedule.mutate({ type: 'send-email', cron: '0 * * * *', payload, timezone: 'Mars/Olympus' }).catch((e: unknown) => e);
    expect(trpcCode(badZone)).toBe('BAD_REQUEST');
    expect(await client.jobs.schedules.list.query()).toEqual([]);
  });
});
