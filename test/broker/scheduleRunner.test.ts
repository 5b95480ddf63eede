import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerContext } from '../../server/broker/brokerContext.ts';
import { createExecutor, type Executor } from '../../server/broker/db/executor.ts';
import { GroupCommit } from '../../server/db/groupCommit.ts';
import type { Dispatcher } from '../../server/broker/dispatch/dispatcher.ts';
import { ScheduleRunner } from '../../server/broker/schedules/scheduleRunner.ts';
import { startHarness, type Harness } from './support/harness.ts';

let h: Harness;
let db: Executor;
beforeAll(async () => {
  h = await startHarness();
  db = createExecutor(h.storage);
});
afterAll(async () => {
  await db?.close();
  await h?.close();
});

/** A runner on the harness's storage whose dispatcher only records what it is asked to arm. */
function recordingRunner(): { runner: ScheduleRunner; armed: [string, number][] } {
  const armed: [string, number][] = [];
  // Only the two methods the runner calls exist; the cast keeps the real Dispatcher out of the test.
  const dispatcher = { scheduleAt: (id: string, at: number) => armed.push([id, at]), add: () => {} } as unknown as Dispatcher;
  const ctx: BrokerContext = { db, now: Date.now, logger: pino({ level: 'silent' }), dispatcher, keys: { current: 'c', next: 'n' }, token: 't', maxBodyBytes: 1024, accept: new GroupCommit(() => Promise.reject(new Error('the runner publishes in its own transaction'))) };
  return { runner: new ScheduleRunner(ctx, () => {}), armed };
}

describe('schedule runner', () => {
  it('re-arms the stored slot when a stale timer fires before it (the claim fails)', async () => {
    const { scheduleId } = await h.client.schedules.create({ destination: h.destination.url('/runner/stale'), cron: '* * * * *', body: 'x' });
    const stored = (await h.client.schedules.get(scheduleId)).nextScheduleTime as number; // set for a live schedule
    const { runner, armed } = recordingRunner();
    // A timer left from before an update fires ahead of the schedule's real slot.
    expect(await runner.fire(scheduleId, stored - 30_000)).toEqual([]);
    expect(armed).toEqual([[scheduleId, stored]]);
  });

  it('arms nothing for a paused schedule', async () => {
    const { scheduleId } = await h.client.schedules.create({ destination: h.destination.url('/runner/paused'), cron: '* * * * *', body: 'x' });
    await h.client.schedules.pause({ schedule: scheduleId });
    const { runner, armed } = recordingRunner();
    expect(await runner.fire(scheduleId, Date.now() + 120_000)).toEqual([]);
    expect(armed).toEqual([]);
  });
});
