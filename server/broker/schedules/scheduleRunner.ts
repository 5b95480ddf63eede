import { dispatchCreated, type BrokerContext } from '../brokerContext.ts';
import { insertMessage } from '../messages/insertMessage.ts';
import type { StoredMessage } from '../messages/messageModel.ts';
import { resolveDestinations } from '../publish/resolveDestinations.ts';
import { ensureQueue } from '../queues/queueStore.ts';
import { nextCronTime } from './parseCron.ts';
import { claimFiring, listSchedules, lockSchedule, setFiredStates } from './scheduleStore.ts';

const RETRY_AFTER_ERROR_MS = 1000;

/** Fires schedules when their slot comes (via the dispatcher's timer) or when a test asks. */
export class ScheduleRunner {
  constructor(
    private readonly ctx: BrokerContext,
    private readonly track: (p: Promise<unknown>) => void,
  ) {}

  /** Arms every live schedule. A slot missed while the broker was down fires once, right away. */
  async load(): Promise<void> {
    for (const s of await listSchedules(this.ctx.db)) {
      if (!s.isPaused && s.nextScheduleTime !== undefined) this.ctx.dispatcher.scheduleAt(s.id, s.nextScheduleTime);
    }
  }

  onDue(id: string): void {
    this.track(
      this.fire(id, this.ctx.now()).catch((error: unknown) => {
        this.ctx.logger.error({ err: error, scheduleId: id }, '[broker] Schedule firing failed; will retry');
        this.ctx.dispatcher.scheduleAt(id, this.ctx.now() + RETRY_AFTER_ERROR_MS);
      }),
    );
  }

  /** Fires every live schedule whose next slot is at or before `at`; returns the messages published. */
  async fireDue(at: number): Promise<{ scheduleId: string; messageIds: string[] }[]> {
    const due = await this.ctx.db.query<{ id: string }>(
      'SELECT id FROM qstash.schedules WHERE NOT is_paused AND next_schedule_time <= $1 ORDER BY next_schedule_time, id',
      [at],
    );
    const fired: { scheduleId: string; messageIds: string[] }[] = [];
    for (const { id } of due) fired.push({ scheduleId: id, messageIds: await this.fire(id, at) });
    return fired;
  }

  /** Publishes one firing (messages due now) and arms the next slot after `at`. */
  async fire(id: string, at: number): Promise<string[]> {
    const now = this.ctx.now();
    const result = await this.ctx.db.transaction(async (tx) => {
      const schedule = await lockSchedule(tx, id);
      if (!schedule || schedule.isPaused) return undefined;
      const next = nextCronTime(schedule.cron, at);
      const claimed = await claimFiring(tx, id, at, next);
      // Not due at `at`: this was a stale timer (e.g. re-armed after a concurrent update), which may
      // have replaced the live one, so the stored slot is armed again below.
      if (!claimed) return { rearmAt: schedule.nextScheduleTime };
      const { delayMs, ...options } = claimed.template;
      // A URL group deleted since creation yields no targets: the slot passes without messages.
      const targets = await resolveDestinations(tx, claimed.destination).then((r) => r.targets, () => []);
      if (options.queueName) await ensureQueue(tx, options.queueName, now);
      const messages: StoredMessage[] = [];
      for (const target of targets) {
        const spec = { ...options, ...target, kind: 'message' as const, body: claimed.body, scheduleId: id, notBefore: now + delayMs };
        const outcome = await insertMessage(tx, spec, { now, dueAt: spec.notBefore });
        if (!outcome.deduplicated) messages.push(outcome.message);
      }
      await setFiredStates(tx, id, messages.map((m) => m.id));
      return { rearmAt: next, messages };
    });
    if (result?.rearmAt !== undefined) this.ctx.dispatcher.scheduleAt(id, result.rearmAt);
    if (!result?.messages) return [];
    dispatchCreated(this.ctx, result.messages);
    this.ctx.logger.debug({ scheduleId: id, messages: result.messages.length }, '[broker] Schedule fired');
    return result.messages.map((m) => m.id);
  }
}
