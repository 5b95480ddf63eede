/** What the multi-instance test reads back: job timelines, broker records and instance logs. */
import { readFileSync } from 'node:fs';
import type postgres from 'postgres';
import type { Instance } from './topology.ts';

export interface JobRuns {
  status: string;
  /** Attempts started: `processing` events without progress (one per handler run). */
  runs: number;
  completions: number;
}

/** Per job: its status and how many times its handler ran and completed, from `job_events`. */
export async function jobRuns(sql: postgres.Sql, jobIds: readonly string[]): Promise<Map<string, JobRuns>> {
  const rows = await sql<{ id: string; status: string; runs: number; completions: number }[]>`
    SELECT j.job_id AS id, j.status,
      count(e.id) FILTER (WHERE e.status = 'processing' AND e.progress IS NULL)::int AS runs,
      count(e.id) FILTER (WHERE e.status = 'completed')::int AS completions
    FROM job_executions j LEFT JOIN job_events e ON e.job_id = j.job_id
    WHERE j.job_id = ANY(${jobIds as string[]}::uuid[])
    GROUP BY j.job_id, j.status`;
  return new Map(rows.map((r) => [r.id, { status: r.status, runs: r.runs, completions: r.completions }]));
}

/** Jobs of `jobIds` not yet completed (missing rows count too). */
export async function unfinished(sql: postgres.Sql, jobIds: readonly string[]): Promise<number> {
  const [row] = await sql<{ done: number }[]>`
    SELECT count(*)::int AS done FROM job_executions WHERE job_id = ANY(${jobIds as string[]}::uuid[]) AND status = 'completed'`;
  return jobIds.length - (row?.done ?? 0);
}

/** Which instance ran each job: the `[jobs] Processing job` lines of the instances' logs. */
export function executors(instances: readonly Instance[]): Map<string, string[]> {
  const byJob = new Map<string, string[]>();
  for (const instance of instances) {
    for (const line of readFileSync(instance.logFile, 'utf8').split('\n')) {
      if (!line.startsWith('{') || !line.includes('[jobs] Processing job')) continue;
      const { jobId } = JSON.parse(line) as { jobId?: string }; // pino writes one JSON object per line
      if (jobId) byJob.set(jobId, [...(byJob.get(jobId) ?? []), instance.name]);
    }
  }
  return byJob;
}

/** Messages the broker accepted (`CREATED` events) since `sinceMs`, schedule firings excluded. */
export async function brokerPublishes(broker: postgres.Sql, sinceMs: number): Promise<number> {
  const [row] = await broker<{ n: number }[]>`
    SELECT count(*)::int AS n FROM qstash.events WHERE state = 'CREATED' AND schedule_id IS NULL AND time >= ${sinceMs}`;
  return row?.n ?? 0;
}

/** Runs `task` for every item with at most `concurrency` at once. */
export async function inPool<T, R>(items: readonly T[], concurrency: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]!); // i < items.length
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
