import { eq, inArray, or } from 'drizzle-orm';
import { TERMINAL_STATUSES } from '../../shared/jobStatus.ts';
import type { DbOrTx } from '../db/database.ts';
import { jobReplays } from '../db/opsSchema.ts';
import { jobExecutions, type JobRow } from '../db/schema.ts';
import type { JobsDeps } from '../jobs/deps.ts';
import { enqueueJob } from '../jobs/enqueueJob.ts';
import { InvalidTransitionError } from '../jobs/errors.ts';
import { findJobRow } from '../jobs/getJob.ts';
import { publishJob } from '../jobs/publishJob.ts';
import type { Scope } from '../jobs/scope.ts';

export interface ReplayRequest {
  jobId: string;
  /** The edited payload, validated against the type's schema; default the original's. */
  payload?: unknown;
  requestedBy: string;
  /** The caller's access to the type and the payload to run (throws to refuse). */
  check?: (job: Pick<JobRow, 'type' | 'payload'>) => void;
}

/**
 * Runs a finished job again as a new job, with the original's type, owner and options and the
 * given (validated) payload, linked to the original in `job_replays`. The original is unchanged.
 */
export async function replayJob(deps: JobsDeps, scope: Scope, request: ReplayRequest): Promise<{ jobId: string; replayOf: string }> {
  const original = await findJobRow(deps.db, scope, request.jobId);
  if (!(TERMINAL_STATUSES as readonly string[]).includes(original.status)) {
    throw new InvalidTransitionError(`Job ${original.id} is ${original.status}; only completed, failed or cancelled jobs can be replayed`);
  }
  const payload = request.payload === undefined ? original.payload : request.payload;
  request.check?.({ type: original.type, payload });
  const metadata = {
    ...(original.userId === null ? {} : { userId: original.userId }),
    ...(original.organizationId === null ? {} : { organizationId: original.organizationId }),
  };
  const jobId = await deps.db.transaction(async (tx) => {
    const enqueued = await enqueueJob(deps, { type: original.type, payload, metadata, options: { ...(original.publishOptions as object), retries: original.maxRetries } }, tx);
    await tx.insert(jobReplays).values({ jobId: enqueued.jobId, originalJobId: original.id, payloadEdited: request.payload !== undefined && JSON.stringify(request.payload) !== JSON.stringify(original.payload), requestedBy: request.requestedBy });
    return enqueued.jobId;
  });
  const [row] = await deps.db.select().from(jobExecutions).where(eq(jobExecutions.id, jobId));
  if (row) await publishJob(deps, row); // committed above; a failed publish is the sweeper's
  deps.log.info({ jobId, replayOf: original.id, type: original.type }, '[jobs] Job replayed');
  return { jobId, replayOf: original.id };
}

/** The replay links touching a job: what it replays, and its replays (newest last). */
export async function listReplays(db: DbOrTx, scope: Scope, jobId: string): Promise<{ replayOf: string | null; replays: string[] }> {
  await findJobRow(db, scope, jobId);
  const links = await db.select().from(jobReplays).where(or(eq(jobReplays.jobId, jobId), eq(jobReplays.originalJobId, jobId))).orderBy(jobReplays.createdAt);
  const own = links.find((l) => l.jobId === jobId);
  const replays = links.filter((l) => l.originalJobId === jobId).map((l) => l.jobId);
  // Only replays the caller can see: a replay keeps its original's organization, so they are the same scope.
  const visible = replays.length === 0 ? [] : (await db.select({ id: jobExecutions.id }).from(jobExecutions).where(inArray(jobExecutions.id, replays))).map((r) => r.id);
  return { replayOf: own?.originalJobId ?? null, replays: replays.filter((id) => visible.includes(id)) };
}
