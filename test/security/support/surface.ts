/**
 * The attack surface the security suites walk: every tRPC procedure and every HTTP route, with
 * inputs. A procedure the router gains without a row here fails `auth.test.ts` ("covers every
 * procedure"), so new routes join every group by adding one row.
 */
import { jobTypeConfig, JOB_CATALOGUE, JOB_TYPE_LIST, type JobType } from '../../../shared/catalogue.ts';
import { MAX_ENQUEUE_MANY, MAX_PAYLOAD_BYTES, MAX_PAYLOAD_DEPTH } from '../../../shared/jobApi.ts';
import { WORKER_BODY_BYTES } from '../../../server/http/createApp.ts';
import type { ProcedureType } from './securityServer.ts';

export const UNKNOWN_JOB_ID = '00000000-0000-4000-8000-000000000000';

/** An export-data payload (a member type) that never runs during a test: delayed by an hour. */
export const MEMBER_ENQUEUE = { type: 'export-data', payload: { entityType: 'jobs', format: 'csv' }, options: { delay: 3_600_000 } } as const;
const SCHEDULE = { type: 'export-data', cron: '0 3 * * *', payload: { entityType: 'jobs', format: 'csv' } } as const;

/** A payload each job type's schema accepts: the catalogue's own example. */
export const SAMPLE_PAYLOADS = Object.fromEntries(JOB_TYPE_LIST.map((type) => [type, JOB_CATALOGUE[type].example])) as Record<JobType, unknown>;

const nested = (depth: number): unknown => (depth === 0 ? 'leaf' : { a: nested(depth - 1) });

export interface ProcedureCase {
  type: ProcedureType;
  /** `member`: members may call it (per-type rules aside); `admin`: admins only. */
  access: 'member' | 'admin';
  /** An input that passes the schema. */
  valid: unknown;
  /** The job or schedule an input names: `input(id)` builds it (tenancy group). */
  target?: { kind: 'job' | 'schedule' | 'webhookEvent' | 'file'; input: (id: string) => unknown };
  /** Inputs the schema must refuse with BAD_REQUEST / VALIDATION_ERROR (input group). */
  invalid: [name: string, input: unknown][];
}

const jobIdCases: [string, unknown][] = [
  ['a jobId that is not a uuid', { jobId: 'not-a-uuid' }],
  ['a numeric jobId', { jobId: 42 }],
  ['a 10 000-character jobId', { jobId: 'a'.repeat(10_000) }],
  ['SQL in the jobId', { jobId: "' OR 1=1 --" }],
  ['no jobId', {}],
];
const scheduleIdCases: [string, unknown][] = [
  ['a path in the scheduleId', { scheduleId: '../etc/passwd' }],
  ['a 101-character scheduleId', { scheduleId: 'a'.repeat(101) }],
  ['an empty scheduleId', { scheduleId: '' }],
];
const jobTarget = { kind: 'job', input: (jobId: string) => ({ jobId }) } as const;
const scheduleTarget = { kind: 'schedule', input: (scheduleId: string) => ({ scheduleId }) } as const;

export const PROCEDURES: Record<string, ProcedureCase> = {
  'jobs.enqueue': {
    type: 'mutation',
    access: 'member',
    valid: MEMBER_ENQUEUE,
    invalid: [
      ['an unknown type', { type: 'mine-bitcoin', payload: {} }],
      ['no payload', { type: 'export-data' }],
      ['a 201-character idempotencyKey', { ...MEMBER_ENQUEUE, idempotencyKey: 'k'.repeat(201) }],
      ['a negative delay', { ...MEMBER_ENQUEUE, options: { delay: -1 } }],
      ['a delay beyond 7 days', { ...MEMBER_ENQUEUE, options: { delay: 8 * 86_400_000 } }],
      ['21 retries', { ...MEMBER_ENQUEUE, options: { retries: 21 } }],
      ['21 headers', { ...MEMBER_ENQUEUE, options: { headers: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`X-H${i}`, 'v'])) } }],
      ['a header name with CRLF', { ...MEMBER_ENQUEUE, options: { headers: { 'X-A\r\nX-B': 'v' } } }],
      ['a 1001-character header value', { ...MEMBER_ENQUEUE, options: { headers: { 'X-A': 'v'.repeat(1001) } } }],
      ['a javascript: callback', { ...MEMBER_ENQUEUE, options: { callback: 'javascript:alert(1)' } }],
      ['a 2049-character callback', { ...MEMBER_ENQUEUE, options: { callback: `https://example.com/${'a'.repeat(2049)}` } }],
      [`a payload over ${MAX_PAYLOAD_BYTES} bytes`, { ...MEMBER_ENQUEUE, payload: { ...MEMBER_ENQUEUE.payload, filters: { blob: 'x'.repeat(MAX_PAYLOAD_BYTES) } } }],
      [`a payload nested ${MAX_PAYLOAD_DEPTH + 5} deep`, { ...MEMBER_ENQUEUE, payload: { ...MEMBER_ENQUEUE.payload, filters: nested(MAX_PAYLOAD_DEPTH + 5) } }],
      ['a Map smuggled in by superjson', { ...MEMBER_ENQUEUE, payload: { ...MEMBER_ENQUEUE.payload, filters: { m: new Map([['a', 1]]) } } }],
      ['a BigInt smuggled in by superjson', { ...MEMBER_ENQUEUE, payload: { ...MEMBER_ENQUEUE.payload, filters: { n: 10n } } }],
      ['a Date smuggled in by superjson', { ...MEMBER_ENQUEUE, payload: { ...MEMBER_ENQUEUE.payload, filters: { d: new Date() } } }],
      ['NaN smuggled in by superjson', { ...MEMBER_ENQUEUE, payload: { ...MEMBER_ENQUEUE.payload, filters: { n: Number.NaN } } }],
    ],
  },
  // Items are checked one by one (each refused in its own result); only the call's shape is BAD_REQUEST.
  'jobs.enqueueMany': {
    type: 'mutation',
    access: 'member',
    valid: { jobs: [MEMBER_ENQUEUE] },
    invalid: [
      ['no jobs', {}],
      ['jobs that are not an array', { jobs: MEMBER_ENQUEUE }],
      ['a job that is not an object', { jobs: ['export-data'] }],
      [`${MAX_ENQUEUE_MANY + 1} jobs`, { jobs: Array.from({ length: MAX_ENQUEUE_MANY + 1 }, () => MEMBER_ENQUEUE) }],
    ],
  },
  'jobs.get': { type: 'query', access: 'member', valid: { jobId: UNKNOWN_JOB_ID }, target: jobTarget, invalid: jobIdCases },
  'jobs.events': { type: 'query', access: 'member', valid: { jobId: UNKNOWN_JOB_ID }, target: jobTarget, invalid: jobIdCases },
  'jobs.retry': { type: 'mutation', access: 'member', valid: { jobId: UNKNOWN_JOB_ID }, target: jobTarget, invalid: jobIdCases },
  'jobs.cancel': { type: 'mutation', access: 'member', valid: { jobId: UNKNOWN_JOB_ID }, target: jobTarget, invalid: jobIdCases },
  'jobs.list': {
    type: 'query',
    access: 'member',
    valid: {},
    invalid: [
      ['limit 0', { limit: 0 }],
      ['limit 101 (refused, not clamped)', { limit: 101 }],
      ['limit 2.5', { limit: 2.5 }],
      ['limit as a string', { limit: '50' }],
      ['an unknown status', { status: 'hacked' }],
      ['an unknown type', { type: 'mine-bitcoin' }],
      ['a 101-character userId', { userId: 'u'.repeat(101) }],
      ['a 201-character cursor', { cursor: 'c'.repeat(201) }],
      ['a forged cursor', { cursor: Buffer.from(JSON.stringify({ c: 'now', i: "' OR 1=1" })).toString('base64url') }],
      ['createdAfter as a string', { createdAfter: '2020-01-01' }],
    ],
  },
  'jobs.schedule': {
    type: 'mutation',
    access: 'member',
    valid: SCHEDULE,
    invalid: [
      ['a four-field cron', { ...SCHEDULE, cron: '* * * *' }],
      ['a 121-character cron', { ...SCHEDULE, cron: `${'1,'.repeat(58)}1 * * * *` }],
      ['a 65-character timezone', { ...SCHEDULE, timezone: 'Z'.repeat(65) }],
      ['an unknown timezone', { ...SCHEDULE, timezone: 'Mars/Olympus_Mons' }],
      [`a payload over ${MAX_PAYLOAD_BYTES} bytes`, { ...SCHEDULE, payload: { ...SCHEDULE.payload, filters: { blob: 'x'.repeat(MAX_PAYLOAD_BYTES) } } }],
    ],
  },
  'jobs.schedules.list': { type: 'query', access: 'member', valid: undefined, invalid: [] },
  'jobs.schedules.pause': { type: 'mutation', access: 'member', valid: { scheduleId: 'nightly' }, target: scheduleTarget, invalid: scheduleIdCases },
  'jobs.schedules.resume': { type: 'mutation', access: 'member', valid: { scheduleId: 'nightly' }, target: scheduleTarget, invalid: scheduleIdCases },
  'jobs.schedules.delete': { type: 'mutation', access: 'member', valid: { scheduleId: 'nightly' }, target: scheduleTarget, invalid: scheduleIdCases },
  'jobs.onStatus': {
    type: 'subscription',
    access: 'member',
    valid: { jobId: UNKNOWN_JOB_ID },
    target: jobTarget,
    invalid: [...jobIdCases, ['a lastEventId that is not an event id', { jobId: UNKNOWN_JOB_ID, lastEventId: '1 OR 1=1' }]],
  },
  'jobs.onEvents': {
    type: 'subscription',
    access: 'member',
    valid: {},
    invalid: [
      ['an unknown status', { status: 'hacked' }],
      ['a lastEventId that is not an event id', { lastEventId: 'x'.repeat(30) }],
    ],
  },
  'files.link': {
    type: 'mutation',
    access: 'member',
    valid: { fileId: UNKNOWN_JOB_ID },
    target: { kind: 'file', input: (fileId: string) => ({ fileId }) },
    invalid: [['a fileId that is not a uuid', { fileId: '../../etc/passwd' }], ['no fileId', {}]],
  },
  'webhooks.list': { type: 'query', access: 'admin', valid: {}, invalid: [['limit 101', { limit: 101 }], ['a 101-character source', { source: 's'.repeat(101) }]] },
  'webhooks.replay': {
    type: 'mutation',
    access: 'admin',
    valid: { webhookEventId: UNKNOWN_JOB_ID },
    target: { kind: 'webhookEvent', input: (webhookEventId: string) => ({ webhookEventId }) },
    invalid: [['an id that is not a uuid', { webhookEventId: 'x' }]] },
  // Operations (issue 11).
  'jobs.runNow': { type: 'mutation', access: 'member', valid: { jobId: UNKNOWN_JOB_ID }, target: jobTarget, invalid: jobIdCases },
  'jobs.replay': { type: 'mutation', access: 'member', valid: { jobId: UNKNOWN_JOB_ID }, target: jobTarget, invalid: [...jobIdCases, ['a payload with a NUL character', { jobId: UNKNOWN_JOB_ID, payload: { to: 'a\u0000b' } }]] },
  'jobs.replays': { type: 'query', access: 'member', valid: { jobId: UNKNOWN_JOB_ID }, target: jobTarget, invalid: jobIdCases },
  'jobs.bulkRetry': { type: 'mutation', access: 'admin', valid: { dryRun: true }, invalid: [
      ['an unknown status', { status: 'exploded' }],
      ['a 201-character errorText', { errorText: 'e'.repeat(201) }],
      ['organizationId 0', { organizationId: 0 }],
      ['a dryRun that is not a boolean', { dryRun: 'yes' }],
    ] },
  'jobs.bulkCancel': { type: 'mutation', access: 'admin', valid: { dryRun: true }, invalid: [
      ['an unknown status', { status: 'exploded' }],
      ['a 201-character errorText', { errorText: 'e'.repeat(201) }],
      ['organizationId 0', { organizationId: 0 }],
      ['a dryRun that is not a boolean', { dryRun: 'yes' }],
    ] },
  'jobs.bulkOperation': { type: 'query', access: 'admin', valid: { operationId: UNKNOWN_JOB_ID }, invalid: [['an operationId that is not a uuid', { operationId: 'x' }]] },
  'jobs.bulkOperationItems': { type: 'query', access: 'admin', valid: { operationId: UNKNOWN_JOB_ID }, invalid: [['limit 1001', { operationId: UNKNOWN_JOB_ID, limit: 1001 }]] },
  // Operators only: admins are refused before the input is read, so no invalid cases here (test/ops covers them).
  'ops.auditLog': { type: 'query', access: 'admin', valid: {}, invalid: [] },
  'ops.failureGroups': { type: 'query', access: 'admin', valid: {}, invalid: [['limit 201', { limit: 201 }], ['an unknown type', { type: 'mine-bitcoin' }]] },
  'ops.health': { type: 'query', access: 'admin', valid: undefined, invalid: [] },
  // The dashboard's own procedures (issue 12).
  'dashboard.me': { type: 'query', access: 'member', valid: undefined, invalid: [] },
  'dashboard.overview': { type: 'query', access: 'member', valid: {}, invalid: [['an unknown window', { window: 'year' }], ['organizationId 0', { organizationId: 0 }]] },
  'dashboard.timeline': { type: 'query', access: 'member', valid: { jobId: UNKNOWN_JOB_ID }, target: jobTarget, invalid: jobIdCases },
  'dashboard.schedules': { type: 'query', access: 'member', valid: undefined, invalid: [] },
  'dashboard.cronPreview': { type: 'query', access: 'member', valid: { cron: '0 3 * * *' }, invalid: [['a four-field cron', { cron: '* * * *' }], ['count 11', { cron: '0 3 * * *', count: 11 }], ['a 65-character timezone', { cron: '0 3 * * *', timezone: 'z'.repeat(65) }]] },
  'dashboard.triggerSchedule': { type: 'mutation', access: 'member', valid: { scheduleId: 'nightly' }, target: scheduleTarget, invalid: scheduleIdCases },
  'dashboard.webhookJobs': {
    type: 'query',
    access: 'admin',
    valid: { webhookEventId: UNKNOWN_JOB_ID },
    target: { kind: 'webhookEvent', input: (webhookEventId: string) => ({ webhookEventId }) },
    invalid: [['an id that is not a uuid', { webhookEventId: 'x' }]] },
};

export interface HttpRoute {
  method: 'GET' | 'POST';
  path: string;
  kind: 'worker' | 'webhook' | 'probe' | 'download';
  /** Largest body the route reads (413 beyond). */
  bodyLimitBytes?: number;
  /** The answer to an unsigned body within the limit: refused by its signature check. */
  unsignedStatus?: number;
  /** Reads only JSON: other content types are refused unread (415) rather than read. */
  jsonOnly?: boolean;
}

/**
 * Every non-tRPC route. Worker routes follow the catalogue. Webhook and download routes are
 * added here as they land: `{ method: 'POST', path: '/api/stripe/webhook', kind: 'webhook', bodyLimitBytes }`.
 */
export const HTTP_ROUTES: HttpRoute[] = [
  ...JOB_TYPE_LIST.filter((type) => jobTypeConfig(type).availability === 'available').map(
    (type) => ({ method: 'POST', path: jobTypeConfig(type).endpoint, kind: 'worker', bodyLimitBytes: WORKER_BODY_BYTES, unsignedStatus: 401 }) as const,
  ),
  // Stripe's convention for a bad signature is 400; generic sources answer 401.
  { method: 'POST', path: '/api/stripe/webhook', kind: 'webhook', bodyLimitBytes: WORKER_BODY_BYTES, unsignedStatus: 400, jsonOnly: true },
  { method: 'POST', path: '/api/webhooks/github', kind: 'webhook', bodyLimitBytes: WORKER_BODY_BYTES, unsignedStatus: 401, jsonOnly: true },
  { method: 'GET', path: `/api/files/${UNKNOWN_JOB_ID}`, kind: 'download' },
  { method: 'GET', path: '/healthz', kind: 'probe' },
  { method: 'GET', path: '/readyz', kind: 'probe' },
];

export const WORKER_ROUTES = HTTP_ROUTES.filter((r) => r.kind === 'worker');

/** Every catalogue endpoint, routed or not: signatures for any of them must not open another. */
export const ALL_WORKER_PATHS = Object.values(JOB_CATALOGUE).map((config) => config.endpoint);
