/** `jobs.enqueueMany`: each item checked as `jobs.enqueue` checks its input, all valid ones recorded together. */
import { TRPCError } from '@trpc/server';
import { EnqueueInput, type EnqueueItemError, type EnqueueManyInput, type EnqueueManyOutput } from '../../shared/jobApi.ts';
import { enqueueJobs, type EnqueueJobInput } from '../jobs/enqueueJob.ts';
import { JobError, JobValidationError } from '../jobs/errors.ts';
import type { Caller } from '../auth/token.ts';
import type { Context } from './context.ts';
import { assertMayUseOptions, assertMayUsePayload, assertMayUseType, metadataOf } from './access.ts';
import { TRPC_CODE_BY_ERROR_CODE } from './errors.ts';

type Results = EnqueueManyOutput['results'];

export async function enqueueMany(ctx: Context & { caller: Caller }, jobs: EnqueueManyInput['jobs']): Promise<EnqueueManyOutput> {
  const results: Results = new Array(jobs.length);
  const accepted: { index: number; input: EnqueueJobInput }[] = [];
  const metadata = metadataOf(ctx.caller, ctx.requestId);
  for (const [index, item] of jobs.entries()) {
    const parsed = EnqueueInput.safeParse(item);
    if (!parsed.success) {
      results[index] = { ok: false, error: { code: 'VALIDATION_ERROR', message: 'Invalid job', issues: issuesOf(parsed.error.issues) } };
      continue;
    }
    const job = parsed.data;
    try {
      assertMayUseType(ctx.caller, job.type);
      assertMayUseOptions(ctx.caller, job.options);
      assertMayUsePayload(ctx.caller, ctx.deps, job);
    } catch (error) {
      results[index] = { ok: false, error: itemError(error) };
      continue;
    }
    accepted.push({ index, input: { type: job.type, payload: job.payload, metadata, options: job.options, idempotencyKey: job.idempotencyKey, payloadParsed: true } });
  }
  const enqueued = await enqueueJobs(ctx.deps, accepted.map((a) => a.input));
  accepted.forEach(({ index }, i) => {
    const result = enqueued[i]!; // one result per input
    if (result.ok) {
      results[index] = { ok: true, jobId: result.jobId, deduplicated: result.deduplicated };
      return;
    }
    const error = itemError(result.error);
    if (error.code === 'INTERNAL_SERVER_ERROR') ctx.log.error({ err: result.error, item: index }, '[jobs] enqueueMany item failed');
    results[index] = { ok: false, error };
  });
  return { results };
}

const issuesOf = (issues: readonly { path: readonly PropertyKey[]; message: string }[]) =>
  issues.map((issue) => ({ path: issue.path.map((p) => (typeof p === 'number' ? p : String(p))), message: issue.message }));

const isErrorCode = (code: string): code is keyof typeof TRPC_CODE_BY_ERROR_CODE => Object.hasOwn(TRPC_CODE_BY_ERROR_CODE, code);

/** An item's refusal as `jobs.enqueue` would have said it; anything unexpected without its details (never SQL or stacks). */
function itemError(error: unknown): EnqueueItemError {
  const cause = error instanceof TRPCError ? error.cause : error;
  if (cause instanceof JobValidationError) return { code: 'VALIDATION_ERROR', message: cause.message, issues: issuesOf(cause.issues) };
  if (cause instanceof JobError && isErrorCode(cause.code)) return { code: cause.code, message: cause.message };
  return { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' };
}
