/**
 * The job catalogue: every job type is declared here once, and everything else (JOB_TYPES,
 * payload types, the `jobs.enqueue` input union, the handler registry's type and the worker
 * routes) is derived from it.
 *
 * Glossary
 * - job: one requested unit of work, a row in `job_executions`.
 * - job type: a catalogue entry, e.g. `send-email`.
 * - attempt: one run of a job's handler; a job has 1 + maxRetries attempts at most.
 * - delivery: one signed HTTP POST from QStash to a worker route; several deliveries may carry
 *   the same attempt (QStash is at-least-once).
 * - handler: the function that does a job type's work.
 * - schedule: a cron expression that enqueues a job of a type at every firing.
 * - event: one entry in a job's timeline (`job_events`), streamed to subscribers.
 */
import { z } from 'zod';
import { SendEmailPayload } from './email.ts';

const JsonRecord = z.record(z.string().max(200), z.unknown());
const IsoDate = z.iso.date();

/** How deep a webhook payload may nest: far beyond real senders, far below what `jsonb` refuses. */
export const MAX_WEBHOOK_PAYLOAD_DEPTH = 100;

/**
 * Why Postgres could not store a JSON value (U+0000 in a string or key, which `jsonb` and `text`
 * refuse, or nesting beyond `maxDepth`), else undefined. Iterative: a 1 MiB body may nest deep.
 */
export function unstorableJson(value: unknown, maxDepth: number): string | undefined {
  const stack: [unknown, number][] = [[value, 0]];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [item, depth] = next;
    if (typeof item === 'string' && item.includes('\u0000')) return 'text may not contain the NUL character (U+0000)';
    if (typeof item !== 'object' || item === null) continue;
    if (depth >= maxDepth) return `may nest at most ${maxDepth} deep`;
    for (const [key, v] of Object.entries(item)) {
      if (key.includes('\u0000')) return 'text may not contain the NUL character (U+0000)';
      stack.push([v, depth + 1]);
    }
  }
  return undefined;
}
/** Refused at the schema, so a signed delivery carrying it is a 400, not a 500 its sender would redeliver for days. */
function storable(payload: unknown, ctx: z.RefinementCtx): void {
  const problem = unstorableJson(payload, MAX_WEBHOOK_PAYLOAD_DEPTH);
  if (problem) ctx.addIssue({ code: 'custom', message: `payload ${problem}` });
}

/** Server-only: created by the webhook route and `webhooks.replay` (and server code), never by API callers. */
export const ProcessWebhookPayload = z
  .object({
    source: z.string().trim().min(1).max(100),
    event: z.string().trim().min(1).max(200),
    data: JsonRecord,
    /** The provider's delivery id; the event is stored once per organization, source and delivery id. */
    deliveryId: z.string().trim().min(1).max(200).optional(),
    /** The headers that matter (event, delivery id, user-agent, content-type), lower-cased. */
    headers: z.record(z.string().max(100), z.string().max(1000)).optional(),
    /** When the webhook route received the delivery. */
    receivedAt: z.iso.datetime({ offset: true }).optional(),
  })
  .superRefine(storable);
/** Server-only: created by the verified Stripe route (and server code), never by API callers. */
export const ProcessStripeWebhookPayload = z
  .object({
    eventType: z.string().min(1).max(200),
    /** The Stripe event's `data.object` (the checkout session, invoice or subscription). */
    eventData: JsonRecord,
    /** The sender's address as the route saw it; the seed passes `request.headers.get('x-forwarded-for')`, which may be null. */
    ipAddress: z.string().max(256).nullish(),
    /** The Stripe event's `id` (`evt_…`). */
    eventId: z.string().min(1).max(255).optional(),
    /**
     * The Stripe event's `created` (Unix seconds): orders updates of one subscription. Default, and
     * for a time more than a few minutes ahead of the server's clock: processing time.
     */
    eventCreated: z.number().int().nonnegative().optional(),
  })
  .superRefine(storable);
export const ExportDataPayload = z.object({
  entityType: z.string().trim().min(1).max(100),
  format: z.enum(['csv', 'json']),
  filters: JsonRecord.default({}),
});
/** Longest date range a report may cover, in days (both ends inclusive). */
export const MAX_REPORT_DAYS = 366;
export const GenerateReportPayload = z
  .object({
    reportType: z.enum(['monthly-analytics', 'job-summary']),
    startDate: IsoDate,
    endDate: IsoDate,
    format: z.enum(['pdf', 'csv', 'json']),
  })
  .refine((p) => p.startDate <= p.endDate, { message: 'startDate must not be after endDate', path: ['endDate'] })
  .refine((p) => Date.parse(p.endDate) - Date.parse(p.startDate) < MAX_REPORT_DAYS * 86_400_000, {
    message: `the range may span at most ${MAX_REPORT_DAYS} days`,
    path: ['endDate'],
  });
export const CleanupOldDataPayload = z.object({
  /** Age in days beyond which terminal jobs and their events are deleted. */
  retention: z.number().int().min(1).max(3650),
});

/**
 * Who may enqueue or schedule a job type through the API: `member` (any role), `admin`, or
 * `server` (no API caller; the type's jobs come from verified routes and server code, which may
 * enqueue any type).
 */
export type EnqueueAccess = 'member' | 'admin' | 'server';

/**
 * One catalogue entry: the seed's `JobConfig` (`type, endpoint, retries, timeout, description`)
 * plus jobwire's payload schema, enqueue access and availability.
 */
export interface JobTypeConfig<P extends z.ZodType = z.ZodType> {
  /** The type's wire name, the entry's own key (the seed's `JobConfig.type`). */
  readonly type: string;
  /** Zod schema of the payload. */
  readonly payload: P;
  /** The worker route deliveries arrive at, e.g. `/api/jobs/email` (always under `/api/jobs/`). */
  readonly endpoint: `/api/jobs/${string}`;
  /** Retries after the first attempt (QStash `Upstash-Retries`). */
  readonly retries: number;
  /** Per-attempt handler time limit in seconds (the seed's `timeout`). */
  readonly timeout: number;
  readonly description: string;
  readonly enqueueAccess: EnqueueAccess;
  /**
   * `available` types have a handler; `coming` ones are declared but refused by `enqueue`
   * until their handler lands.
   */
  readonly availability: 'available' | 'coming';
  /** A payload the schema accepts: documentation, test fixtures and a starting point for forms. */
  readonly example: unknown;
}

export const JOB_CATALOGUE = {
  'send-email': {
    type: 'send-email',
    payload: SendEmailPayload,
    endpoint: '/api/jobs/email',
    retries: 3,
    timeout: 30,
    description: 'Send a transactional email from one of the seven templates',
    enqueueAccess: 'admin',
    availability: 'available',
    example: { template: 'welcome', to: 'user@example.com', data: { recipientName: 'John Doe' } },
  },
  'process-webhook': {
    type: 'process-webhook',
    payload: ProcessWebhookPayload,
    endpoint: '/api/jobs/webhook',
    retries: 5,
    timeout: 60,
    description: 'Store and dispatch an incoming webhook event',
    enqueueAccess: 'server',
    availability: 'available',
    example: { source: 'github', event: 'push', data: { ref: 'refs/heads/main' } },
  },
  'process-stripe-webhook': {
    type: 'process-stripe-webhook',
    payload: ProcessStripeWebhookPayload,
    endpoint: '/api/jobs/stripe-webhook',
    retries: 5,
    timeout: 60,
    description: 'Apply a verified Stripe event to billing state',
    enqueueAccess: 'server',
    availability: 'available',
    example: { eventType: 'invoice.paid', eventData: { id: 'in_123', object: 'invoice' } },
  },
  'export-data': {
    type: 'export-data',
    payload: ExportDataPayload,
    endpoint: '/api/jobs/export',
    retries: 2,
    timeout: 900,
    description: "Export one of the organization's entities as CSV or NDJSON",
    enqueueAccess: 'member',
    availability: 'available',
    example: { entityType: 'jobs', format: 'csv', filters: { createdAfter: '2025-01-01' } },
  },
  'generate-report': {
    type: 'generate-report',
    payload: GenerateReportPayload,
    endpoint: '/api/jobs/report',
    retries: 2,
    timeout: 600,
    description: 'Generate an analytics report as PDF, CSV or JSON',
    enqueueAccess: 'member',
    availability: 'available',
    example: { reportType: 'monthly-analytics', startDate: '2025-01-01', endDate: '2025-01-31', format: 'pdf' },
  },
  'cleanup-old-data': {
    type: 'cleanup-old-data',
    payload: CleanupOldDataPayload,
    endpoint: '/api/jobs/cleanup',
    retries: 1,
    timeout: 900,
    description: 'Delete terminal jobs and expired files older than the retention',
    enqueueAccess: 'admin',
    availability: 'available',
    example: { retention: 30 },
  },
} as const satisfies { [T in string]: JobTypeConfig & { type: T } };

export type JobCatalogue = typeof JOB_CATALOGUE;
export type JobType = keyof JobCatalogue;
/** Every job type's wire name, in catalogue order. */
export const JOB_TYPE_LIST = Object.keys(JOB_CATALOGUE) as [JobType, ...JobType[]]; // keys of a const literal, never empty
export const JobTypeSchema = z.enum(JOB_TYPE_LIST);

/** `'send-email'` → `'SEND_EMAIL'`. */
type ConstantName<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Uppercase<Head>}_${ConstantName<Tail>}` : Uppercase<S>;
const constantName = (type: string) => type.toUpperCase().replaceAll('-', '_');

/**
 * The seed's `JOB_TYPES` constant (`JOB_TYPES.SEND_EMAIL === 'send-email'`), derived from the
 * catalogue: a new entry `'send-sms'` is `JOB_TYPES.SEND_SMS` with no other edit.
 */
export const JOB_TYPES = Object.freeze(Object.fromEntries(JOB_TYPE_LIST.map((type) => [constantName(type), type]))) as {
  readonly [T in JobType as ConstantName<T>]: T;
}; // built from every key just above

/** Job types whose handler has landed. The handler registry must cover exactly these. */
export type AvailableJobType = {
  [T in JobType]: JobCatalogue[T]['availability'] extends 'available' ? T : never;
}[JobType];

/** A job type's payload as handlers receive it (after parsing and defaults). */
export type JobPayload<T extends JobType> = z.output<JobCatalogue[T]['payload']>;
/** A job type's payload as callers write it. */
export type JobPayloadInput<T extends JobType> = z.input<JobCatalogue[T]['payload']>;

/** A known job type's catalogue entry. Server code taking untrusted names uses the server's `jobTypeConfig`, which throws. */
export function jobTypeConfig<T extends JobType>(type: T): JobCatalogue[T] {
  return JOB_CATALOGUE[type];
}

export function isJobType(value: unknown): value is JobType {
  return typeof value === 'string' && Object.hasOwn(JOB_CATALOGUE, value);
}
