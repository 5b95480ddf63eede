/** Function-level authorization of the jobs API (which caller may use which type and option). */
import { TRPCError } from '@trpc/server';
import { jobTypeConfig, type JobType } from '../../shared/catalogue.ts';
import { ADMIN_ONLY_OPTIONS, type JobMetadata, type JobOptions } from '../../shared/jobApi.ts';
import type { Caller } from '../auth/token.ts';
import type { JobsDeps } from '../jobs/deps.ts';
import { apiError } from './errors.ts';

/**
 * Members may enqueue or schedule only the catalogue's `member` types, admins also `admin` ones;
 * no caller `server` ones, whose payloads are trusted as verified (the webhook job types).
 */
export function assertMayUseType(caller: Caller, type: JobType): void {
  const access = jobTypeConfig(type).enqueueAccess;
  if (access === 'server') throw apiError('FORBIDDEN_JOB_TYPE', `Job type "${type}" is created only by the server, never through the API`);
  if (access === 'member' || caller.role === 'admin') return;
  throw apiError('FORBIDDEN_JOB_TYPE', `Job type "${type}" can only be enqueued by an admin`);
}

/** `callback`, `failureCallback` and `headers` make QStash call arbitrary URLs: admins only. */
export function assertMayUseOptions(caller: Caller, options: JobOptions | undefined): void {
  if (caller.role === 'admin' || !options) return;
  const used = ADMIN_ONLY_OPTIONS.filter((name) => options[name] !== undefined);
  if (used.length > 0) throw apiError('FORBIDDEN_OPTION', `Only admins may set the option(s): ${used.join(', ')}`);
}

/** Some payloads need an admin where their type does not: admin-only export entities (`JobsDeps.payloadAccess`). */
export function assertMayUsePayload(caller: Caller, deps: Pick<JobsDeps, 'payloadAccess'>, job: { type: JobType; payload: unknown }): void {
  if (caller.role === 'admin') return;
  // The input schema (or the stored schedule) holds this type's parsed payload.
  const adminOnly = (deps.payloadAccess?.[job.type] as ((payload: unknown) => string | undefined) | undefined)?.(job.payload);
  if (adminOnly) throw apiError('FORBIDDEN_PAYLOAD', `Only admins may use ${adminOnly}`);
}

/**
 * Acting on an existing job or schedule (retry, cancel, pause, resume, delete) follows the rule
 * for creating it: the caller must be allowed its stored type and payload.
 */
export function assertMayActOn(caller: Caller, deps: Pick<JobsDeps, 'payloadAccess'>, target: { type: JobType; payload: unknown }): void {
  if (isOperator(caller)) return; // platform staff act on every job, the server-only types' included
  assertMayUseType(caller, target.type);
  assertMayUsePayload(caller, deps, target);
}

/** How often a member's schedule may fire at most: once every 5 minutes (each firing is a job the organization pays for). */
export const MEMBER_SCHEDULE_MIN_INTERVAL_MS = 5 * 60_000;

/** The shortest firing interval a caller's schedule may have; admins are bounded only by cron's one-minute resolution. */
export function scheduleMinIntervalMs(caller: Caller): number | undefined {
  return caller.role === 'admin' ? undefined : MEMBER_SCHEDULE_MIN_INTERVAL_MS;
}

/** Who a job belongs to: always the verified caller, never the input. */
export function metadataOf(caller: Caller, requestId: string): JobMetadata {
  return { userId: caller.userId, organizationId: caller.organizationId, correlationId: requestId };
}

/** Operators run the service: every organization's jobs and schedules, and those of none. */
export const isOperator = (caller: Caller) => caller.role === 'operator';

/**
 * The organization filter a caller may give: operators any (none: all; null: the jobs of no
 * organization), tenants only their own, which changes nothing since they are scoped to it.
 */
export function assertMayFilterOrganization(caller: Caller, organizationId: number | null | undefined): void {
  if (organizationId === undefined || isOperator(caller) || organizationId === caller.organizationId) return;
  throw new TRPCError({ code: 'FORBIDDEN', message: 'Only operators may look at other organizations (organizationId)' });
}

