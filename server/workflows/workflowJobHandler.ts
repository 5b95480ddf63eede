import type { Client as WorkflowClient } from '@upstash/workflow';
import type { AvailableJobType, JobPayload } from '../../shared/catalogue.ts';
import { NonRetryableJobError, toError } from '../jobs/errors.ts';
import type { HandlerContext, JobHandler } from '../jobs/handlers.ts';

/** What the workflow endpoint of a workflow-backed job type receives as `context.requestPayload`. */
export interface WorkflowJobInput<T extends AvailableJobType> {
  jobId: string;
  type: T;
  payload: JobPayload<T>;
  organizationId: number | null;
  userId: string | null;
}

export interface WorkflowJobOptions {
  /**
   * The workflow endpoint (where `@upstash/workflow`'s `serve` is mounted) and a workflow `Client`
   * pointed at the broker (embedded or QStash). Called at every attempt, so it may be resolved late.
   */
  connection(): { url: string; client: WorkflowClient } | Promise<{ url: string; client: WorkflowClient }>;
  /** Steps a run has, for the progress fraction. Default unknown: `done / (done + 1)`. */
  expectedSteps?: number;
  /** How often the run's log is read. Default 500 ms (progress reports closer than 250 ms are dropped). */
  pollIntervalMs?: number;
  /** Retries of each step (the run's `Upstash-Retries`). Default QStash's 3. */
  retries?: number;
  /** Delay between a step's retries, a QStash retry-delay expression in ms (e.g. `1000 * pow(2, retried)`). Default QStash's backoff. */
  retryDelay?: string;
}

/** The run id a job's workflow gets: one run per job, so a redelivered attempt re-attaches to it. */
export const workflowRunIdOf = (jobId: string) => `wfr_job_${jobId}`;

type RunLog = Awaited<ReturnType<WorkflowClient['logs']>>['runs'][number];

/**
 * A job type whose work is an Upstash Workflow: the handler starts the job's run (or re-attaches to
 * it: the run id is derived from the job id, and the broker answers a second trigger as a duplicate),
 * reports each finished step as the job's progress (an event in `jobs.events`, a change on
 * `jobs.onStatus`), and resolves with the run's result, or fails the job for good when the run
 * failed: the workflow already retried its steps one by one. The steps live in the broker, so a
 * server restart loses none; the next attempt simply re-attaches, and reports the steps finished
 * before it in one event instead of announcing each again. A read of the run's log that fails (the
 * broker restarting, a network blip) is tried again at the next poll: it says nothing about the run,
 * so it costs the job no attempt; the job type's `timeout` bounds the wait.
 */
export function workflowJobHandler<T extends AvailableJobType>(options: WorkflowJobOptions): JobHandler<T> {
  const interval = Math.max(options.pollIntervalMs ?? 500, 260);
  return async (payload: JobPayload<T>, ctx: HandlerContext<T>) => {
    const { url, client } = await options.connection();
    const input: WorkflowJobInput<T> = { jobId: ctx.jobId, type: ctx.type, payload, organizationId: ctx.organizationId, userId: ctx.userId };
    const { workflowRunId } = await client.trigger({
      url,
      body: input,
      workflowRunId: `job_${ctx.jobId}`,
      label: `job-${ctx.type}`,
      ...(options.retries === undefined ? {} : { retries: options.retries }),
      ...(options.retryDelay === undefined ? {} : { retryDelay: options.retryDelay }),
    });
    const fraction = (done: number) => (options.expectedSteps ? Math.min(0.99, done / options.expectedSteps) : done / (done + 1));
    const reported = new Set<string>();
    // A later attempt re-attaches to a run an earlier one watched: what finished before it is one event.
    let caughtUp = ctx.attempt === 1;
    let unreadable = 0;
    for (;;) {
      ctx.signal.throwIfAborted();
      const run = await readRun(client, workflowRunId).catch((error: unknown) => {
        if (unreadable++ === 0) ctx.log.warn({ err: toError(error), workflowRunId }, '[workflows] Could not read the run\'s log; trying again');
        return null;
      });
      if (run !== null) unreadable = 0;
      const finished = run ? finishedSteps(run) : [];
      const fresh = finished.filter((name) => !reported.has(name));
      if (run !== null && !caughtUp) {
        caughtUp = true;
        if (fresh.length > 0) {
          for (const name of fresh) reported.add(name);
          await ctx.progress(fraction(reported.size), `workflow run re-attached; ${fresh.length} step(s) already finished: ${fresh.map((n) => `"${n}"`).join(', ')}`);
          await sleep(interval);
          continue;
        }
      }
      // One step per report: the job's progress reports are throttled, and each should become an event.
      const next = fresh[0];
      if (next !== undefined) {
        reported.add(next);
        await ctx.progress(fraction(reported.size), `workflow step "${next}" finished`);
      } else if (run?.workflowState === 'RUN_SUCCESS') {
        return parseResponse(run.workflowRunResponse);
      } else if (run?.workflowState === 'RUN_FAILED' || run?.workflowState === 'RUN_CANCELED') {
        const reason = run.failureFunction?.failResponse ?? run.workflowState;
        throw new NonRetryableJobError(`workflow run ${workflowRunId} ended ${run.workflowState}: ${reason}`);
      }
      await sleep(interval);
    }
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The run's log entry; undefined while the broker has none yet. */
async function readRun(client: WorkflowClient, workflowRunId: string): Promise<RunLog | undefined> {
  return (await client.logs({ workflowRunId })).runs[0];
}

/** Names of the run's finished steps in order (the initial request is not a step of the job). */
function finishedSteps(run: RunLog): string[] {
  const names: string[] = [];
  for (const group of run.steps) {
    if (group.type === 'next') continue;
    for (const step of group.steps) if (step.stepType !== 'Initial' && !names.includes(step.stepName)) names.push(step.stepName);
  }
  return names;
}

function parseResponse(text: string | undefined): unknown {
  if (text === undefined || text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
