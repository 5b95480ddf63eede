/** Inputs and outputs of the `jobs.*` procedures, and the delivery envelope. */
import { z } from 'zod';
import { JOB_CATALOGUE, JobTypeSchema, type JobCatalogue, type JobType } from './catalogue.ts';
import { JobStatus } from './jobStatus.ts';

const utf8 = new TextEncoder();

export const JobId = z.uuid();

/** Largest payload `jobs.enqueue` and `jobs.schedule` accept: 64 KiB as UTF-8 JSON. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;
/** Most calls one tRPC batch may carry: the server refuses more (400), the client splits before it. */
export const MAX_BATCH_SIZE = 50;
/** Deepest nesting of objects and arrays a payload may have. */
export const MAX_PAYLOAD_DEPTH = 32;

// Payloads are stored as jsonb: superjson could otherwise smuggle Map, Date, BigInt or NaN into
// free-form fields, which would be silently mangled or fail at insert.
function isPlainJson(value: unknown, depth: number): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value !== 'object' || depth >= MAX_PAYLOAD_DEPTH) return false;
  if (Array.isArray(value)) return value.every((item) => isPlainJson(item, depth + 1));
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  return Object.values(value).every((item) => item === undefined || isPlainJson(item, depth + 1));
}

/** Refuses a `payload` that is not plain JSON, nests too deep, or exceeds MAX_PAYLOAD_BYTES. */
function checkPayload(input: { payload: unknown }, ctx: z.RefinementCtx): void {
  if (!isPlainJson(input.payload, 0)) {
    ctx.addIssue({ code: 'custom', path: ['payload'], message: `payload must be plain JSON (objects, arrays, strings, finite numbers, booleans, null), nested at most ${MAX_PAYLOAD_DEPTH} deep` });
  } else if (utf8.encode(JSON.stringify(input.payload)).length > MAX_PAYLOAD_BYTES) {
    ctx.addIssue({ code: 'too_big', origin: 'string', maximum: MAX_PAYLOAD_BYTES, inclusive: true, path: ['payload'], message: `payload must be at most ${MAX_PAYLOAD_BYTES} bytes as JSON` });
  }
}
export const IdempotencyKey = z.string().trim().min(1).max(200);

/** Who a job belongs to. Set by the server from the verified caller, never taken from input. */
export const JobMetadata = z.object({
  userId: z.string().max(100).optional(),
  organizationId: z.number().int().optional(),
  /** Free-form correlation id, e.g. the request that enqueued the job. */
  correlationId: z.string().max(200).optional(),
});
export type JobMetadata = z.infer<typeof JobMetadata>;

const HeaderName = z.string().regex(/^[A-Za-z0-9-]{1,100}$/, 'header names are letters, digits and dashes');

export const JobOptions = z.object({
  /** Delay before the first attempt, in milliseconds. Default 0, at most 7 days. */
  delay: z.number().int().min(0).max(7 * 24 * 3600_000).optional(),
  /** Retries after the first attempt. Default: the job type's `retries`. */
  retries: z.number().int().min(0).max(20).optional(),
  /** Admin only: URL QStash calls after a successful delivery. */
  callback: z.url({ protocol: /^https?$/ }).max(2048).optional(),
  /** Admin only: URL QStash calls once retries are exhausted. */
  failureCallback: z.url({ protocol: /^https?$/ }).max(2048).optional(),
  /** Admin only: extra headers forwarded with every delivery. */
  headers: z.record(HeaderName, z.string().max(1000)).refine((h) => Object.keys(h).length <= 20, 'at most 20 headers').optional(),
});
export type JobOptions = z.infer<typeof JobOptions>;
/** Options only admins may set through the API. */
export const ADMIN_ONLY_OPTIONS = ['callback', 'failureCallback', 'headers'] as const satisfies readonly (keyof JobOptions)[];

// The return type is spelled out: inferred through the generic, zod widens `payload` to unknown.
function enqueueVariant<T extends JobType>(type: T): z.ZodObject<{
  type: z.ZodLiteral<T>;
  payload: JobCatalogue[T]['payload'];
  idempotencyKey: z.ZodOptional<typeof IdempotencyKey>;
  options: z.ZodOptional<typeof JobOptions>;
}> {
  return z.object({
    type: z.literal(type),
    payload: JOB_CATALOGUE[type].payload,
    idempotencyKey: IdempotencyKey.optional(),
    options: JobOptions.optional(),
  });
}

/** `jobs.enqueue` input: a discriminated union on `type`, one variant per catalogue entry. */
export const EnqueueInput = z.discriminatedUnion('type', [
  enqueueVariant('send-email'),
  enqueueVariant('process-webhook'),
  enqueueVariant('process-stripe-webhook'),
  enqueueVariant('export-data'),
  enqueueVariant('generate-report'),
  enqueueVariant('cleanup-old-data'),
]).superRefine(checkPayload);
export type EnqueueInput = z.infer<typeof EnqueueInput>;
// Every catalogue entry has exactly one variant.
export type _EnqueueCoversCatalogue = [JobType] extends [EnqueueInput['type']] ? true : never;
export const _enqueueCoversCatalogue: _EnqueueCoversCatalogue = true;

export const EnqueueOutput = z.object({ jobId: JobId, deduplicated: z.boolean() });
export type EnqueueOutput = z.infer<typeof EnqueueOutput>;

export const JobIdInput = z.object({ jobId: JobId });

export const ListJobsInput = z.object({
  type: JobTypeSchema.optional(),
  status: JobStatus.optional(),
  userId: z.string().max(100).optional(),
  createdAfter: z.date().optional(),
  createdBefore: z.date().optional(),
  /** Page size, 1–100. Default 50. */
  limit: z.number().int().min(1).max(100).default(50),
  /** `nextCursor` of the previous page. */
  cursor: z.string().max(200).nullish(),
});
export type ListJobsInput = z.input<typeof ListJobsInput>;

export const JobError = z.object({ name: z.string(), message: z.string() });

/** A job as the API shows it. */
export const JobView = z.object({
  jobId: JobId,
  type: JobTypeSchema,
  status: JobStatus,
  payload: z.unknown(),
  result: z.unknown().nullable(),
  error: JobError.nullable(),
  /** Fraction done, 0–1, as the handler last reported it. */
  progress: z.number().nullable(),
  /** Failed attempts so far. */
  retryCount: z.number().int(),
  maxRetries: z.number().int(),
  userId: z.string().nullable(),
  organizationId: z.number().int().nullable(),
  idempotencyKey: z.string().nullable(),
  scheduleId: z.string().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
  startedAt: z.date().nullable(),
  completedAt: z.date().nullable(),
  nextAttemptAt: z.date().nullable(),
});
export type JobView = z.infer<typeof JobView>;

/** Cron: five fields (minute hour day-of-month month day-of-week). */
export const CronExpression = z
  .string()
  .trim()
  .max(120)
  .regex(/^(\S+\s+){4}\S+$/, 'cron must have five fields: minute hour day-of-month month day-of-week');

function scheduleVariant<T extends JobType>(type: T): z.ZodObject<{
  type: z.ZodLiteral<T>;
  cron: typeof CronExpression;
  payload: JobCatalogue[T]['payload'];
  timezone: z.ZodOptional<z.ZodString>;
}> {
  return z.object({
    type: z.literal(type),
    cron: CronExpression,
    payload: JOB_CATALOGUE[type].payload,
    /** IANA time zone the cron is read in. Default UTC. */
    timezone: z.string().max(64).optional(),
  });
}

export const ScheduleInput = z.discriminatedUnion('type', [
  scheduleVariant('send-email'),
  scheduleVariant('process-webhook'),
  scheduleVariant('process-stripe-webhook'),
  scheduleVariant('export-data'),
  scheduleVariant('generate-report'),
  scheduleVariant('cleanup-old-data'),
]).superRefine(checkPayload);
export type ScheduleInput = z.infer<typeof ScheduleInput>;
// Every catalogue entry can be scheduled.
export type _ScheduleCoversCatalogue = [JobType] extends [ScheduleInput['type']] ? true : never;
export const _scheduleCoversCatalogue: _ScheduleCoversCatalogue = true;

export const ScheduleId = z.string().regex(/^[A-Za-z0-9._-]{1,100}$/);
export const ScheduleIdInput = z.object({ scheduleId: ScheduleId });

export const ScheduleView = z.object({
  scheduleId: z.string(),
  type: JobTypeSchema,
  cron: z.string(),
  timezone: z.string().nullable(),
  payload: z.unknown(),
  paused: z.boolean(),
  organizationId: z.number().int().nullable(),
  userId: z.string().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type ScheduleView = z.infer<typeof ScheduleView>;

/**
 * The body QStash delivers to a worker route. Workers trust only `jobId` (or `scheduleId`)
 * and re-read everything else from Postgres.
 */
export const BaseJob = z.object({
  jobId: JobId,
  type: JobTypeSchema,
  payload: z.unknown(),
  metadata: JobMetadata,
});
export type BaseJob = z.infer<typeof BaseJob>;

/** The body a schedule's firing delivers: the worker turns each firing into one job. */
export const ScheduledFiring = z.object({ scheduleId: ScheduleId, type: JobTypeSchema });
export type ScheduledFiring = z.infer<typeof ScheduledFiring>;
