import { randomBytes } from 'node:crypto';
import type { Queryable } from '../db/executor.ts';
import { bodyFields } from '../messages/messageJson.ts';
import { toBuffer } from '../messages/messageModel.ts';
import type { MessageOptions } from '../publish/parseMessageOptions.ts';
import { redactBody, redactHeader } from '../redact/redaction.ts';

/** What each firing publishes: the create request's message options (delay kept, not-before dropped). */
export type ScheduleTemplate = Omit<MessageOptions, 'notBeforeMs'>;

export interface StoredSchedule {
  id: string;
  cron: string;
  destination: string;
  template: ScheduleTemplate;
  body: Buffer;
  createdAt: number;
  isPaused: boolean;
  lastScheduleTime?: number;
  nextScheduleTime?: number;
  lastScheduleStates: Record<string, 'IN_PROGRESS' | 'SUCCESS' | 'FAIL'>;
}

export function newScheduleId(): string {
  return `scd_${randomBytes(18).toString('base64url')}`;
}

function rowToSchedule(row: Record<string, unknown>): StoredSchedule {
  return {
    id: String(row.id),
    cron: String(row.cron),
    destination: String(row.destination),
    template: row.template as ScheduleTemplate,
    body: toBuffer(row.body),
    createdAt: Number(row.created_at),
    isPaused: Boolean(row.is_paused),
    lastScheduleTime: row.last_schedule_time == null ? undefined : Number(row.last_schedule_time),
    nextScheduleTime: row.next_schedule_time == null ? undefined : Number(row.next_schedule_time),
    lastScheduleStates: (row.last_schedule_states ?? {}) as StoredSchedule['lastScheduleStates'],
  };
}

/** Creates a schedule, or replaces the one with the same id (QStash's `Upstash-Schedule-Id`). */
export async function upsertSchedule(db: Queryable, s: Omit<StoredSchedule, 'lastScheduleStates' | 'lastScheduleTime'>): Promise<void> {
  await db.query(
    `INSERT INTO qstash.schedules (id, cron, destination, template, body, created_at, is_paused, next_schedule_time)
     VALUES ($1, $2, $3, $4::text::jsonb, $5, $6, $7, $8)
     ON CONFLICT (id) DO UPDATE SET cron = EXCLUDED.cron, destination = EXCLUDED.destination, template = EXCLUDED.template,
       body = EXCLUDED.body, is_paused = EXCLUDED.is_paused, next_schedule_time = EXCLUDED.next_schedule_time`,
    [s.id, s.cron, s.destination, JSON.stringify(s.template), s.body, s.createdAt, s.isPaused, s.nextScheduleTime ?? null],
  );
}

export async function getSchedule(db: Queryable, id: string): Promise<StoredSchedule | undefined> {
  const [row] = await db.query('SELECT * FROM qstash.schedules WHERE id = $1', [id]);
  return row ? rowToSchedule(row) : undefined;
}

/** Reads a schedule and locks its row, so a firing computes its next slot from the cron it claims. */
export async function lockSchedule(tx: Queryable, id: string): Promise<StoredSchedule | undefined> {
  const [row] = await tx.query('SELECT * FROM qstash.schedules WHERE id = $1 FOR UPDATE', [id]);
  return row ? rowToSchedule(row) : undefined;
}

export async function listSchedules(db: Queryable): Promise<StoredSchedule[]> {
  return (await db.query('SELECT * FROM qstash.schedules ORDER BY created_at, id')).map(rowToSchedule);
}

export async function deleteSchedule(db: Queryable, id: string): Promise<boolean> {
  return (await db.query('DELETE FROM qstash.schedules WHERE id = $1 RETURNING id', [id])).length > 0;
}

export async function setSchedulePaused(db: Queryable, id: string, paused: boolean, next: number | null): Promise<boolean> {
  const rows = await db.query('UPDATE qstash.schedules SET is_paused = $2, next_schedule_time = $3 WHERE id = $1 RETURNING id', [id, paused, next]);
  return rows.length > 0;
}

/**
 * Claims a firing: advances the schedule only if it is live and due at `at`. A schedule that missed
 * several slots (broker down) fires once, then continues from `at`.
 */
export async function claimFiring(tx: Queryable, id: string, at: number, next: number): Promise<StoredSchedule | undefined> {
  const [row] = await tx.query(
    `UPDATE qstash.schedules SET last_schedule_time = $2, next_schedule_time = $3, last_schedule_states = '{}'::jsonb
     WHERE id = $1 AND NOT is_paused AND next_schedule_time <= $2 RETURNING *`,
    [id, at, next],
  );
  return row ? rowToSchedule(row) : undefined;
}

export async function setFiredStates(tx: Queryable, id: string, messageIds: string[]): Promise<void> {
  const states = Object.fromEntries(messageIds.map((m) => [m, 'IN_PROGRESS']));
  await tx.query('UPDATE qstash.schedules SET last_schedule_states = $2::text::jsonb WHERE id = $1', [id, JSON.stringify(states)]);
}

/** The SDK's `Schedule` shape (times in ms, delay in seconds). */
export function scheduleJson(s: StoredSchedule) {
  const t = s.template;
  return {
    scheduleId: s.id,
    cron: s.cron,
    createdAt: s.createdAt,
    destination: s.destination,
    method: t.method,
    header: redactHeader(t.header, t.redact),
    ...bodyFields(redactBody(s.body, t.redact)),
    retries: t.maxRetries,
    delay: t.delayMs > 0 ? Math.round(t.delayMs / 1000) : undefined,
    callback: t.callback,
    failureCallback: t.failureCallback,
    callerIp: t.callerIp,
    callerIP: t.callerIp,
    isPaused: s.isPaused,
    queueName: t.queueName,
    flowControlKey: t.flow?.key,
    parallelism: t.flow?.parallelism,
    rate: t.flow?.rate,
    period: t.flow?.period,
    retryDelayExpression: t.retryDelay,
    timeout: t.timeoutMs,
    label: t.labels[0],
    labels: t.labels.length > 0 ? t.labels : undefined,
    lastScheduleTime: s.lastScheduleTime,
    nextScheduleTime: s.isPaused ? undefined : s.nextScheduleTime,
    lastScheduleStates: Object.keys(s.lastScheduleStates).length > 0 ? s.lastScheduleStates : undefined,
  };
}
