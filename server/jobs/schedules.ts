import { createHash, randomBytes } from 'node:crypto';
import { and, desc, eq, isNull, or, sql } from 'drizzle-orm';
import { jobTypeConfig, type JobType } from '../../shared/catalogue.ts';
import type { ScheduleView } from '../../shared/jobApi.ts';
import type { DbOrTx } from '../db/database.ts';
import { jobSchedules, type ScheduleRow } from '../db/schema.ts';
import type { JobsDeps, ScheduleRequest } from './deps.ts';
import { JobNotFoundError, JobValidationError } from './errors.ts';
import { checkCronInterval } from './cronInterval.ts';
import { checkPayload, validateJob } from './enqueueJob.ts';
import { parseMetadata } from './parseMetadata.ts';
import { ALL_ORGANIZATIONS, type Scope } from './scope.ts';

export interface CreateScheduleInput {
  type: JobType;
  cron: string;
  payload: unknown;
  timezone?: string | undefined;
  /** The seed's `BaseJobMetadata`; validated here. */
  metadata?: unknown;
  /** A fixed id makes creation idempotent (built-in schedules); default: a random one. */
  scheduleId?: string;
  /** Refuse a cron that may fire more often than this (the API's bound for members). Default none. */
  minIntervalMs?: number | undefined;
}

/** The same key in the same organization names the same schedule: creating it again updates it. */
function keyedScheduleId(organizationId: number | null, key: string): string {
  return `sch_${createHash('sha256').update(`${organizationId ?? ''}:${key}`).digest('base64url').replace(/[^A-Za-z0-9]/g, 'x').slice(0, 32)}`;
}

function checkTimezone(timezone: string | undefined): void {
  if (timezone === undefined) return;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new JobValidationError('Invalid time zone', [{ path: ['timezone'], message: `unknown IANA time zone "${timezone}"` }]);
  }
}

/** Records a schedule and registers it with the broker; each firing becomes its own job. */
export async function createSchedule(deps: JobsDeps, input: CreateScheduleInput): Promise<{ scheduleId: string }> {
  const { type, payload } = validateJob(input.type, input.payload);
  checkPayload(deps, type, payload);
  checkTimezone(input.timezone);
  checkCronInterval(input.cron, input.minIntervalMs);
  // Each firing's job gets its own createdAt; an idempotency key names the schedule itself.
  const { metadata: { createdAt: _createdAt, idempotencyKey, ...metadata }, userId, organizationId } = parseMetadata(input.metadata);
  await checkScheduleQuota(deps, metadata.organizationId);
  const scheduleId = input.scheduleId ?? (idempotencyKey ? keyedScheduleId(organizationId, idempotencyKey) : `sch_${randomBytes(12).toString('base64url').replace(/[^A-Za-z0-9]/g, 'x')}`);
  const values = { id: scheduleId, type, cron: input.cron, timezone: input.timezone ?? null, payload, metadata, userId, organizationId };
  const [existing] = await deps.db.select().from(jobSchedules).where(eq(jobSchedules.id, scheduleId)).limit(1);
  await deps.db
    .insert(jobSchedules)
    .values(values)
    .onConflictDoUpdate({ target: jobSchedules.id, set: { ...values, updatedAt: sql`now()` } });
  try {
    await deps.publisher.upsertSchedule(scheduleRequestOf(scheduleId, type, input.cron, input.timezone ?? null));
  } catch (error) {
    // The broker refused it (bad cron, unreachable): leave no schedule behind that never fires.
    if (!existing) await deps.db.delete(jobSchedules).where(eq(jobSchedules.id, scheduleId));
    throw error;
  }
  deps.log.info({ scheduleId, type, cron: input.cron }, '[jobs] Job scheduled successfully');
  return { scheduleId };
}

/** What the broker is asked to hold for a schedule: each firing posts `{ scheduleId, type }` to the type's route. */
export function scheduleRequestOf(scheduleId: string, type: JobType, cron: string, timezone: string | null): ScheduleRequest {
  const config = jobTypeConfig(type);
  return { scheduleId, type, cron, timezone, body: { scheduleId, type }, retries: config.retries, timeoutMs: config.timeout * 1000 };
}

/**
 * Bounds an organization's schedules, and so `jobs.schedules.list`. A count, then an insert:
 * concurrent creations can overshoot by a few, which a quota tolerates.
 */
async function checkScheduleQuota(deps: JobsDeps, organizationId: number | undefined): Promise<void> {
  if (organizationId === undefined) return; // server-side schedules are the operator's own
  const max = deps.maxSchedulesPerOrganization ?? 1_000;
  if ((await deps.db.$count(jobSchedules, eq(jobSchedules.organizationId, organizationId))) < max) return;
  throw new JobValidationError(`An organization may have at most ${max} schedules`, [{ path: ['cron'], message: `schedule limit of ${max} reached: delete one first` }]);
}

const scoped = (scope: Scope) => (scope === ALL_ORGANIZATIONS ? undefined : eq(jobSchedules.organizationId, scope.organizationId));

function toScheduleView(row: ScheduleRow): ScheduleView {
  const { id, metadata: _metadata, ...rest } = row;
  return { scheduleId: id, ...rest };
}

/**
 * The scope's schedules, newest first. `includeSystem` adds the built-in schedules that belong
 * to no organization (the daily cleanup): listed read-only for admins; acting on them stays
 * NOT_FOUND, since they span every organization.
 */
export async function listSchedules(db: DbOrTx, scope: Scope, options: { includeSystem?: boolean } = {}): Promise<ScheduleView[]> {
  const system = options.includeSystem && scope !== ALL_ORGANIZATIONS;
  const where = system ? or(scoped(scope), isNull(jobSchedules.organizationId)) : scoped(scope);
  const rows = await db.select().from(jobSchedules).where(where).orderBy(desc(jobSchedules.createdAt));
  return rows.map(toScheduleView);
}

async function findSchedule(db: DbOrTx, scope: Scope, scheduleId: string): Promise<ScheduleRow> {
  const [row] = await db.select().from(jobSchedules).where(and(eq(jobSchedules.id, scheduleId), scoped(scope))).limit(1);
  if (!row) throw new JobNotFoundError('schedule', scheduleId);
  return row;
}

/** A caller's extra check on the schedule it acts on (e.g. a member's job-type access); throws to refuse. */
export type ScheduleCheck = (schedule: ScheduleRow) => void;

async function setPaused(deps: JobsDeps, scope: Scope, scheduleId: string, paused: boolean, check?: ScheduleCheck): Promise<{ scheduleId: string }> {
  check?.(await findSchedule(deps.db, scope, scheduleId));
  await (paused ? deps.publisher.pauseSchedule(scheduleId) : deps.publisher.resumeSchedule(scheduleId));
  await deps.db.update(jobSchedules).set({ paused, updatedAt: sql`now()` }).where(eq(jobSchedules.id, scheduleId));
  deps.log.info({ scheduleId, paused }, paused ? '[jobs] Schedule paused' : '[jobs] Schedule resumed');
  return { scheduleId };
}

export const pauseSchedule = (deps: JobsDeps, scope: Scope, scheduleId: string, check?: ScheduleCheck) => setPaused(deps, scope, scheduleId, true, check);
export const resumeSchedule = (deps: JobsDeps, scope: Scope, scheduleId: string, check?: ScheduleCheck) => setPaused(deps, scope, scheduleId, false, check);

export async function deleteSchedule(deps: JobsDeps, scope: Scope, scheduleId: string, check?: ScheduleCheck): Promise<{ scheduleId: string }> {
  check?.(await findSchedule(deps.db, scope, scheduleId));
  await deps.publisher.deleteSchedule(scheduleId);
  await deps.db.delete(jobSchedules).where(eq(jobSchedules.id, scheduleId));
  deps.log.info({ scheduleId }, '[jobs] Schedule deleted');
  return { scheduleId };
}
