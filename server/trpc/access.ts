/** Function-level authorization of the jobs API (which caller may use which type and option). */
import { jobTypeConfig, type JobType } from '../../shared/catalogue.ts';
import { ADMIN_ONLY_OPTIONS, type JobMetadata, type JobOptions } from '../../shared/jobApi.ts';
import type { Caller } from '../auth/token.ts';
import { apiError } from './errors.ts';

/** Members may enqueue or schedule only the catalogue's `member` types; admins any. */
export function assertMayUseType(caller: Caller, type: JobType): void {
  if (caller.role === 'admin' || jobTypeConfig(type).enqueueAccess === 'member') return;
  throw apiError('FORBIDDEN_JOB_TYPE', `Job type "${type}" can only be enqueued by an admin`);
}

/** `callback`, `failureCallback` and `headers` make QStash call arbitrary URLs: admins only. */
export function assertMayUseOptions(caller: Caller, options: JobOptions | undefined): void {
  if (caller.role === 'admin' || !options) return;
  const used = ADMIN_ONLY_OPTIONS.filter((name) => options[name] !== undefined);
  if (used.length > 0) throw apiError('FORBIDDEN_OPTION', `Only admins may set the option(s): ${used.join(', ')}`);
}

/** Who a job belongs to: always the verified caller, never the input. */
export function metadataOf(caller: Caller, requestId: string): JobMetadata {
  return { userId: caller.userId, organizationId: caller.organizationId, correlationId: requestId };
}
