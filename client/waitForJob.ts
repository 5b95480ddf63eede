import type { JobView } from '../shared/jobApi.ts';
import { isTerminalStatus } from '../shared/jobStatus.ts';
import type { JobsClient } from './createJobsClient.ts';
import { jobEvents } from './watchJob.ts';

export interface WaitForJobOptions {
  /** Give up after this many milliseconds. Default 30 000. */
  timeout?: number;
  /**
   * `sse` (default) follows the job's live event stream; `poll` asks `jobs.get` every
   * `interval` ms, for environments where a long-lived stream is not possible.
   */
  transport?: 'sse' | 'poll';
  /** Pause between polls with `transport: 'poll'`, in milliseconds. Default 250. */
  interval?: number;
  /** Resolve once this holds. Default: the job is terminal (completed, failed or cancelled). */
  until?: (job: JobView) => boolean;
  /** Stops waiting; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** `waitForJob` gave up before the job got where it was waited for. */
export class WaitForJobTimeoutError extends Error {
  override name = 'WaitForJobTimeoutError';
  constructor(
    readonly jobId: string,
    readonly timeout: number,
    /** The job as last seen, if it was seen at all. */
    readonly lastSeen: JobView | undefined,
  ) {
    super(`Timed out after ${timeout} ms waiting for job ${jobId} (last status: ${lastSeen?.status ?? 'unknown'})`);
  }
}

/**
 * Resolves with the job once `until` holds (default: it reached a terminal status); rejects
 * with `WaitForJobTimeoutError` after `timeout`, or with the error of `jobs.get` (NOT_FOUND, …).
 */
export async function waitForJob(client: JobsClient, jobId: string, options: WaitForJobOptions = {}): Promise<JobView> {
  const { timeout = 30_000, until } = options;
  const deadline = AbortSignal.timeout(timeout);
  const signal = options.signal ? AbortSignal.any([deadline, options.signal]) : deadline;
  const seen: { job?: JobView } = {};
  try {
    return await (options.transport === 'poll' ? poll(client, jobId, options, signal, seen) : follow(client, jobId, until, signal, seen));
  } catch (error) {
    if (deadline.aborted && !options.signal?.aborted) throw new WaitForJobTimeoutError(jobId, timeout, seen.job);
    if (options.signal?.aborted) throw options.signal.reason;
    throw error;
  }
}

/** Reads the job on each event that may satisfy `until` (only terminal ones by default). */
async function follow(client: JobsClient, jobId: string, until: WaitForJobOptions['until'], signal: AbortSignal, seen: { job?: JobView }): Promise<JobView> {
  for await (const event of jobEvents(client, jobId, { signal })) {
    if (!until && !isTerminalStatus(event.status)) continue;
    seen.job = await client.jobs.get.query({ jobId }, { signal });
    if ((until ?? isTerminal)(seen.job)) return seen.job;
  }
  if (signal.aborted) throw signal.reason;
  // The stream ends after a terminal status; `until` may still want something else.
  seen.job = await client.jobs.get.query({ jobId }, { signal });
  if ((until ?? isTerminal)(seen.job)) return seen.job;
  throw new Error(`Job ${jobId} ended as ${seen.job.status} without meeting the condition`);
}

async function poll(client: JobsClient, jobId: string, options: WaitForJobOptions, signal: AbortSignal, seen: { job?: JobView }): Promise<JobView> {
  const { interval = 250, until = isTerminal } = options;
  for (;;) {
    seen.job = await client.jobs.get.query({ jobId }, { signal });
    if (until(seen.job)) return seen.job;
    await sleep(interval, signal);
  }
}

const isTerminal = (job: JobView) => isTerminalStatus(job.status);

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
