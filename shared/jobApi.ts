/** Inputs and outputs of the `jobs.*` procedures, and the delivery envelope. */
import { z } from 'zod';
import { JOB_CATALOGUE, JOB_TYPE_LIST, JobTypeSchema, unstorableJson, type JobCatalogue, type JobType } from './catalogue.ts';
import { ERROR_CODES } from './errors.ts';
import { JobStatus } from './jobStatus.ts';

const utf8 = new TextEncoder();

export const JobId = z.uuid();

/** Largest payload `jobs.enqueue` and `jobs.schedule` accept: 64 KiB as UTF-8 JSON. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;
/** Most calls one tRPC batch may carry: the server refuses more (400), the client splits before it. */
export const MAX_BATCH_SIZE = 50;
/** Deepest nesting of objects and arrays a payload may have. */
export const MAX_PAYLOAD_DEPTH = 32;

/** `jsonb` and `text` cannot store U+0000: refused in input, so it is a 400 rather than a failed insert. */
export const NUL_MESSAGE = 'may not contain the NUL character (U+0000)';
const noNul = (text: string) => !text.includes('\u0000');

/** Whether a string, or an object key, anywhere in a JSON-like value holds U+0000 (at any depth: server code's payloads have no depth limit). */
export function hasNulCharacter(value: unknown): boolean {
  return unstorableJson(value, Number.POSITIVE_INFINITY) !== undefined;
}

/** Timestamps Postgres and ISO 8601's four-digit years both hold; beyond them a query would fail, not answer. */
export const MIN_TIMESTAMP = new Date('0001-01-01T00:00:00.000Z');
export const MAX_TIMESTAMP = new Date('9999-12-31T23:59:59.999Z');
const Timestamp = z
  .date()
  .min(MIN_TIMESTAMP, 'must be on or after 0001-01-01')
  .max(MAX_TIMESTAMP, 'must be on or before 9999-12-31');

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

/** Refuses a `payload` that is not plain JSON, nests too deep, holds U+0000, or exceeds MAX_PAYLOAD_BYTES. */
function checkPayload(input: { payload: unknown }, ctx: z.RefinementCtx): void {
  if (!isPlainJson(input.payload, 0)) {
    ctx.addIssue({ code: 'custom', path: ['payload'], message: `payload must be plain JSON (objects, arrays, strings, finite numbers, booleans, null), nested at most ${MAX_PAYLOAD_DEPTH} deep` });
  } else if (hasNulCharacter(input.payload)) {
    ctx.addIssue({ code: 'custom', path: ['payload'], message: `payload strings and keys ${NUL_MESSAGE}` });
  } else if (utf8.encode(JSON.stringify(input.payload)).length > MAX_PAYLOAD_BYTES) {
    ctx.addIssue({ code: 'too_big', origin: 'string', maximum: MAX_PAYLOAD_BYTES, inclusive: true, path: ['payload'], message: `payload must be at most ${MAX_PAYLOAD_BYTES} bytes as JSON` });
  }
}
export const IdempotencyKey = z.string().trim().min(1).max(200).refine(noNul, NUL_MESSAGE);

/** A user id: the seed's number, or the decimal string a token's `sub` carries. */
export const UserId = z.union([z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER), z.string().regex(/^[0-9]{1,20}$/, 'userId must be a decimal string')]);

/**
 * The seed's `BaseJobMetadata`: who a job belongs to and how it is deduplicated. Through the API
 * the server fills it from the verified caller, never from input; server code passes it to
 * `jobDispatcher.enqueue`. `createdAt` is set at enqueue when absent. Unknown keys are refused.
 */
export const BaseJobMetadata = z.strictObject({
  /** User who initiated the job. */
  userId: UserId.optional(),
  /** Organization context: a Postgres `integer`. */
  organizationId: z.number().int().min(-2_147_483_648).max(2_147_483_647).optional(),
  /** Prevents duplicate jobs: one job per key and organization. */
  idempotencyKey: IdempotencyKey.optional(),
  /** ISO timestamp. Default: the time of enqueue. */
  createdAt: z.iso.datetime({ offset: true }).optional(),
  /** Free-form correlation id, e.g. the request that enqueued the job. */
  correlationId: z.string().max(200).refine(noNul, NUL_MESSAGE).optional(),
});
export type BaseJobMetadata = z.infer<typeof BaseJobMetadata>;
/** jobwire's older name for `BaseJobMetadata`. */
export const JobMetadata = BaseJobMetadata;
export type JobMetadata = BaseJobMetadata;

const HeaderName = z.string().regex(/^[A-Za-z0-9-]{1,100}$/, 'header names are letters, digits and dashes');
/** An RFC 9110 field value: no CR, LF, NUL or other control characters (a job that can never be published otherwise). */
const HeaderValue = z.string().max(1000).regex(/^[\t\x20-\x7e\x80-\xff]*$/, 'header values may not contain control characters (CR, LF, NUL…)');

// Stored as given (jsonb) and sent as a header: no control characters, which `new URL` would silently drop or encode.
const CallbackUrl = z
  .url({ protocol: /^https?$/ })
  .max(2048)
  .regex(/^\P{Cc}*$/u, 'callback URLs may not contain control characters');

export const JobOptions = z.object({
  /** Delay before the first attempt, in milliseconds. Default 0, at most 7 days. */
  delay: z.number().int().min(0).max(7 * 24 * 3600_000).optional(),
  /** Retries after the first attempt. Default: the job type's `retries`. */
  retries: z.number().int().min(0).max(20).optional(),
  /** Admin only: URL QStash calls after a successful delivery. Private and internal addresses are refused at enqueue. */
  callback: CallbackUrl.optional(),
  /** Admin only: URL QStash calls once retries are exhausted. Private and internal addresses are refused at enqueue. */
  failureCallback: CallbackUrl.optional(),
  /** Admin only: extra headers forwarded with every delivery. */
  headers: z.record(HeaderName, HeaderValue).refine((h) => Object.keys(h).length <= 20, 'at most 20 headers').optional(),
});
export type JobOptions = z.infer<typeof JobOptions>;
/** Options only admins may set through the API. */
export const ADMIN_ONLY_OPTIONS = ['callback', 'failureCallback', 'headers'] as const satisfies readonly (keyof JobOptions)[];

type EnqueueVariant<T extends JobType> = z.ZodObject<{
  type: z.ZodLiteral<T>;
  payload: JobCatalogue[T]['payload'];
  idempotencyKey: z.ZodOptional<typeof IdempotencyKey>;
  options: z.ZodOptional<typeof JobOptions>;
}>;

// The return type is spelled out: inferred through the generic, zod widens `payload` to unknown.
function enqueueVariant<T extends JobType>(type: T): EnqueueVariant<T> {
  return z.object({
    type: z.literal(type),
    payload: JOB_CATALOGUE[type].payload,
    idempotencyKey: IdempotencyKey.optional(),
    options: JobOptions.optional(),
  });
}

/** One entry per job type, each with its own literal `type` and payload: a union, not one wide variant. */
type VariantTuple<V extends { [T in JobType]: z.ZodObject }> = [V[JobType], ...V[JobType][]];

/** `jobs.enqueue` input: a discriminated union on `type`, one variant per catalogue entry. */
export const EnqueueInput = z
  // `map` cannot pair each type with its own variant; every element is `enqueueVariant(type)` for
  // the type it was built from, so the tuple of per-type variants is what it holds.
  .discriminatedUnion('type', JOB_TYPE_LIST.map(enqueueVariant) as VariantTuple<{ [T in JobType]: EnqueueVariant<T> }>)
  .superRefine(checkPayload);
export type EnqueueInput = z.infer<typeof EnqueueInput>;

export const EnqueueOutput = z.object({ jobId: JobId, deduplicated: z.boolean() });
export type EnqueueOutput = z.infer<typeof EnqueueOutput>;

/** Most jobs one `jobs.enqueueMany` call may carry; more is BAD_REQUEST. */
export const MAX_ENQUEUE_MANY = 100;

/**
 * `jobs.enqueueMany` input: `{ jobs: [ { type, payload, idempotencyKey?, options? }, … ] }`, up to
 * MAX_ENQUEUE_MANY. Each item is typed as `jobs.enqueue`'s input but checked on its own by the
 * server (`EnqueueInput`), so one bad item is refused in its result instead of failing the call.
 */
export const EnqueueManyInput = z.object({
  jobs: z.array(z.custom<z.input<typeof EnqueueInput>>((item) => typeof item === 'object' && item !== null, 'each job must be an object')).max(MAX_ENQUEUE_MANY),
});
export type EnqueueManyInput = z.input<typeof EnqueueManyInput>;

/** Why one item of `jobs.enqueueMany` was refused: a shared error code (e.g. `VALIDATION_ERROR`, `FORBIDDEN_JOB_TYPE`), the message, and the validation issues if any. */
export const EnqueueItemError = z.object({
  code: z.union([z.enum(ERROR_CODES), z.literal('INTERNAL_SERVER_ERROR')]),
  message: z.string(),
  issues: z.array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string() })).optional(),
});
export type EnqueueItemError = z.infer<typeof EnqueueItemError>;

/** One result per input item, in input order. */
export const EnqueueManyOutput = z.object({
  results: z.array(z.discriminatedUnion('ok', [EnqueueOutput.extend({ ok: z.literal(true) }), z.object({ ok: z.literal(false), error: EnqueueItemError })])),
});
export type EnqueueManyOutput = z.infer<typeof EnqueueManyOutput>;

export const JobIdInput = z.object({ jobId: JobId });

export const ListJobsInput = z.object({
  type: JobTypeSchema.optional(),
  status: JobStatus.optional(),
  userId: z.string().max(100).refine(noNul, NUL_MESSAGE).optional(),
  createdAfter: Timestamp.optional(),
  createdBefore: Timestamp.optional(),
  /** Page size, 1–100. Default 50. */
  limit: z.number().int().min(1).max(100).default(50),
  /** `nextCursor` of the previous page. */
  cursor: z.string().max(200).refine(noNul, NUL_MESSAGE).nullish(),
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
  .regex(/^[\x20-\x7e\t]*$/, 'cron may contain only printable ASCII characters')
  .regex(/^(\S+\s+){4}\S+$/, 'cron must have five fields: minute hour day-of-month month day-of-week');

type ScheduleVariant<T extends JobType> = z.ZodObject<{
  type: z.ZodLiteral<T>;
  cron: typeof CronExpression;
  payload: JobCatalogue[T]['payload'];
  timezone: z.ZodOptional<z.ZodString>;
}>;

function scheduleVariant<T extends JobType>(type: T): ScheduleVariant<T> {
  return z.object({
    type: z.literal(type),
    cron: CronExpression,
    payload: JOB_CATALOGUE[type].payload,
    /** IANA time zone the cron is read in. Default UTC. */
    timezone: z.string().max(64).refine(noNul, NUL_MESSAGE).optional(),
  });
}

/** `jobs.schedule` input: like `EnqueueInput`, one variant per catalogue entry. */
export const ScheduleInput = z
  // As for EnqueueInput: each element is `scheduleVariant(type)` of its own type.
  .discriminatedUnion('type', JOB_TYPE_LIST.map(scheduleVariant) as VariantTuple<{ [T in JobType]: ScheduleVariant<T> }>)
  .superRefine(checkPayload);
export type ScheduleInput = z.infer<typeof ScheduleInput>;

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
