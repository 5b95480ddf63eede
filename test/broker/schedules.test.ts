import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, verifyDelivery, type Harness } from './support/harness.ts';
import { sleep, waitFor } from './support/waitFor.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('schedules', () => {
  it('creates, gets and lists a schedule with its next slot', async () => {
    const { scheduleId } = await h.client.schedules.create({
      destination: h.destination.url('/sched/info'),
      cron: '*/5 * * * *',
      body: '{"tick":true}',
      retries: 2,
      headers: { 'X-From': 'schedule' },
    });
    expect(scheduleId).toMatch(/^scd_/);
    const schedule = await h.client.schedules.get(scheduleId);
    expect(schedule).toMatchObject({ scheduleId, cron: '*/5 * * * *', destination: h.destination.url('/sched/info'), method: 'POST', retries: 2, isPaused: false, body: '{"tick":true}' });
    expect(schedule.header?.['X-From']).toEqual(['schedule']);
    expect(schedule.nextScheduleTime! % (5 * 60_000)).toBe(0);
    expect(schedule.nextScheduleTime).toBeGreaterThan(Date.now());
    const list = await h.client.schedules.list();
    expect(list.map((s) => s.scheduleId)).toContain(scheduleId);
  });

  it('fires through the test hook: a delivery carrying Upstash-Schedule-Id, and records the slot', async () => {
    const path = '/sched/fire';
    const { scheduleId } = await h.client.schedules.create({ destination: h.destination.url(path), cron: '* * * * *', body: 'tick', scheduleId: 'my.schedule-1' });
    expect(scheduleId).toBe('my.schedule-1');
    const before = await h.client.schedules.get(scheduleId);
    const fired = await h.broker.fireDueSchedules(before.nextScheduleTime);
    const mine = fired.find((f) => f.scheduleId === scheduleId);
    expect(mine?.messageIds).toHaveLength(1);
    const req = await waitFor(() => h.destination.received(path)[0]);
    expect(req.headers['upstash-schedule-id']).toBe(scheduleId);
    expect(req.headers['upstash-message-id']).toBe(mine?.messageIds[0]);
    expect(req.body.toString()).toBe('tick');
    await verifyDelivery(req);
    const after = await waitFor(async () => {
      const s = await h.client.schedules.get(scheduleId);
      return Object.values(s.lastScheduleStates ?? {}).includes('SUCCESS') && s;
    });
    expect(after.lastScheduleTime).toBe(before.nextScheduleTime);
    expect(after.nextScheduleTime).toBe(before.nextScheduleTime! + 60_000);
    // Nothing is due before the next slot.
    const again = await h.broker.fireDueSchedules(before.nextScheduleTime);
    expect(again.find((f) => f.scheduleId === scheduleId)).toBeUndefined();
  });

  it('does not fire paused schedules; resume and delete', async () => {
    const path = '/sched/pause';
    const { scheduleId } = await h.client.schedules.create({ destination: h.destination.url(path), cron: '* * * * *', body: 'p' });
    await h.client.schedules.pause({ schedule: scheduleId });
    expect((await h.client.schedules.get(scheduleId)).isPaused).toBe(true);
    const fired = await h.broker.fireDueSchedules(Date.now() + 120_000);
    expect(fired.find((f) => f.scheduleId === scheduleId)).toBeUndefined();
    await sleep(200);
    expect(h.destination.received(path)).toHaveLength(0);

    await h.client.schedules.resume({ schedule: scheduleId });
    const resumed = await h.client.schedules.get(scheduleId);
    expect(resumed.isPaused).toBe(false);
    expect((await h.broker.fireDueSchedules(resumed.nextScheduleTime)).find((f) => f.scheduleId === scheduleId)).toBeDefined();
    await waitFor(() => h.destination.received(path).length === 1);

    await h.client.schedules.delete(scheduleId);
    await expect(h.client.schedules.get(scheduleId)).rejects.toMatchObject({ status: 404 });
    expect((await h.client.schedules.list()).map((s) => s.scheduleId)).not.toContain(scheduleId);
  });

  it('accepts POST for pause and resume too (openapi spelling)', async () => {
    const { scheduleId } = await h.client.schedules.create({ destination: h.destination.url('/sched/post'), cron: '0 0 * * *' });
    await h.client.http.request({ method: 'POST', path: ['v2', 'schedules', scheduleId, 'pause'], parseResponseAsJson: false });
    expect((await h.client.schedules.get(scheduleId)).isPaused).toBe(true);
    await h.client.http.request({ method: 'POST', path: ['v2', 'schedules', scheduleId, 'resume'], parseResponseAsJson: false });
    expect((await h.client.schedules.get(scheduleId)).isPaused).toBe(false);
  });

  it('computes slots in the CRON_TZ zone', async () => {
    const { scheduleId } = await h.client.schedules.create({ destination: h.destination.url('/sched/tz'), cron: 'CRON_TZ=Asia/Kolkata 0 9 * * *' });
    const schedule = await h.client.schedules.get(scheduleId);
    const next = new Date(schedule.nextScheduleTime!);
    // 09:00 in India (UTC+05:30) is 03:30 UTC.
    expect([next.getUTCHours(), next.getUTCMinutes()]).toEqual([3, 30]);
  });

  it('rejects bad cron expressions', async () => {
    await expect(h.client.schedules.create({ destination: h.destination.url('/x'), cron: '* * *' })).rejects.toMatchObject({ status: 400 });
    await expect(h.client.schedules.create({ destination: h.destination.url('/x'), cron: '61 * * * *' })).rejects.toMatchObject({ status: 400 });
    await expect(h.client.schedules.create({ destination: h.destination.url('/x'), cron: 'CRON_TZ=Mars/Olympus 0 * * * *' })).rejects.toMatchObject({ status: 400 });
  });

  it('fires into a queue when the schedule names one', async () => {
    const path = '/sched/queue';
    const { scheduleId } = await h.client.schedules.create({ destination: h.destination.url(path), cron: '* * * * *', queueName: 'sched-queue', body: 'q' });
    const schedule = await h.client.schedules.get(scheduleId);
    expect(schedule.queueName).toBe('sched-queue');
    await h.broker.fireDueSchedules(schedule.nextScheduleTime);
    const req = await waitFor(() => h.destination.received(path)[0]);
    expect(req.headers['upstash-schedule-id']).toBe(scheduleId);
    expect((await h.client.queue({ queueName: 'sched-queue' }).get()).name).toBe('sched-queue');
  });
});
