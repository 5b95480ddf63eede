// The peer benchmark's workloads, the same for every system (see docs/performance.md,
// "Benchmarks vs peers"). Each measures rate, CPU of the app processes and of PostgreSQL, the
// transaction ids consumed and, behind the counting proxy, what went over the wire.
import { percentile } from '../percentile.ts';
import { now } from './childProtocol.ts';
import { postgresCpuUs } from './machine.ts';
import type { WireCounts } from './statementProxy.ts';
import type { System } from './system.ts';

export type WorkloadName = 'floor' | 'enqueue' | 'enqueueTyped' | 'enqueueBatch' | 'latency' | 'e2e';

export interface Measurement {
  jobs: number;
  seconds: number;
  /** Jobs (or calls) per second. */
  rate: number;
  /** Per job, in milliseconds. */
  appCpuMs: number;
  serverCpuMs: number | undefined;
  /** null where it is not measured (PGlite runs in the app process; no /proc). */
  pgCpuMs: number | null;
  /** Transaction ids assigned per job (write transactions; server-wide counter). */
  xids: number;
  /** Per job, when the counting proxy is in the path. */
  wire: WireCounts | undefined;
  latency?: { startP50: number; startP99: number; completedP50?: number; completedP99?: number };
}

export interface WorkloadOptions {
  jobs: number;
  callers: number;
  batchSize: number;
  batchesInFlight: number;
  latencyJobs: number;
  warmup: number;
  /** Present in the counting pass. */
  wire?: () => WireCounts;
  /** Told each workload's result as it ends. */
  progress?: (line: string) => void;
  pglite: boolean;
}

/** Runs `count` calls with at most `concurrency` in flight. */
async function inFlight(count: number, concurrency: number, call: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await call(next++);
    }),
  );
}

/** Measures `run` (which reports when its work started and ended) over `jobs` jobs. */
async function metered(system: System, options: WorkloadOptions, jobs: number, run: () => Promise<{ start: number; end: number }>): Promise<Measurement> {
  const own0 = (await system.benchStatements?.()) ?? 0;
  const [xmax0, app0, server0, pg0, wire0] = [await system.xmax(), await system.appCpuUs(), await system.serverCpuUs?.(), postgresCpuUs(), options.wire?.()];
  const { start, end } = await run();
  const [pg1, wire1, server1, app1, xmax1] = [postgresCpuUs(), options.wire?.(), await system.serverCpuUs?.(), await system.appCpuUs(), await system.xmax()];
  const own = ((await system.benchStatements?.()) ?? 0) - own0; // simple queries: one statement and one sync each
  const seconds = (end - start) / 1000;
  const per = (us: number) => us / 1000 / jobs;
  return {
    jobs,
    seconds,
    rate: jobs / seconds,
    appCpuMs: per(app1 - app0),
    serverCpuMs: server0 === undefined || server1 === undefined ? undefined : per(server1 - server0),
    pgCpuMs: options.pglite || pg0 === null || pg1 === null ? null : per(pg1 - pg0),
    xids: Number(xmax1 - xmax0) / jobs,
    wire: wire0 && wire1 ? { statements: (wire1.statements - wire0.statements - own) / jobs, parses: (wire1.parses - wire0.parses) / jobs, syncs: (wire1.syncs - wire0.syncs - own) / jobs } : undefined,
  };
}

/** Every workload a system supports, in this order: enqueue-only ones first, before any worker runs. */
export async function runWorkloads(system: System, options: WorkloadOptions, only?: ReadonlySet<WorkloadName>): Promise<Map<WorkloadName, Measurement>> {
  const results = new Map<WorkloadName, Measurement>();
  const set = (name: WorkloadName, m: Measurement) => {
    results.set(name, m);
    const what = m.latency ? `p50 ${m.latency.startP50.toFixed(1)} ms to start` : `${m.jobs} in ${m.seconds.toFixed(1)} s, ${Math.round(m.rate)}/s`;
    options.progress?.(`  ${system.name} ${name}: ${what}`);
  };
  const wanted = (name: WorkloadName) => !only || only.has(name);
  let index = 0; // every job gets its own payload
  let produced = 0; // jobs enqueued to run now: what "all completed" waits for
  const { jobs, callers, warmup } = options;

  // An enqueue workload ends when its last call answered and, for jobwire, its jobs are published.
  const ended = async () => Math.max(now(), (await system.published?.()) ?? 0);
  const callsWorkload = async (name: WorkloadName, call: ((i: number) => Promise<void>) | undefined) => {
    if (!call || !wanted(name)) return;
    await inFlight(warmup, callers, () => call(index++));
    await system.published?.(); // the warm-up's publishes are not the measurement's
    set(name, await metered(system, options, jobs, async () => {
      const start = now();
      await inFlight(jobs, callers, () => call(index++));
      return { start, end: await ended() };
    }));
  };
  await callsWorkload('floor', system.floor);
  await callsWorkload('enqueue', system.enqueue);
  await callsWorkload('enqueueTyped', system.enqueueTyped);

  if (wanted('enqueueBatch')) {
    const { batchSize, batchesInFlight } = options;
    const batch = () => system.enqueueBatch((index += batchSize) - batchSize, batchSize);
    await inFlight(Math.max(1, Math.ceil(warmup / batchSize)), batchesInFlight, batch);
    await system.published?.();
    const batches = Math.max(1, Math.round(jobs / batchSize));
    set('enqueueBatch', await metered(system, options, batches * batchSize, async () => {
      const start = now();
      await inFlight(batches, batchesInFlight, batch);
      return { start, end: await ended() };
    }));
  }

  if (!wanted('latency') && !wanted('e2e')) return results;
  await system.startWorker();
  const produce = () => {
    produced++;
    return system.produce(index++);
  };

  if (wanted('latency')) {
    await system.reportStarts(true);
    const starts: number[] = [];
    const completions: number[] = [];
    for (let k = -3; k < options.latencyJobs; k++) { // three unmeasured first
      const at = now();
      const id = await produce();
      const started = await system.started(id);
      const completed = await system.completedAt?.(id);
      if (k < 0) continue;
      starts.push(started - at);
      if (completed !== undefined) completions.push(completed - at);
    }
    await system.reportStarts(false);
    await system.awaitCompleted(produced);
    starts.sort((a, b) => a - b);
    completions.sort((a, b) => a - b);
    set('latency', {
      jobs: starts.length,
      seconds: NaN,
      rate: NaN,
      appCpuMs: NaN,
      serverCpuMs: undefined,
      pgCpuMs: null,
      xids: NaN,
      wire: undefined,
      latency: {
        startP50: percentile(starts, 50),
        startP99: percentile(starts, 99),
        ...(completions.length ? { completedP50: percentile(completions, 50), completedP99: percentile(completions, 99) } : {}),
      },
    });
  }

  if (wanted('e2e')) {
    await inFlight(warmup, callers, produce);
    await system.awaitCompleted(produced);
    set('e2e', await metered(system, options, jobs, async () => {
      const start = now();
      await inFlight(jobs, callers, produce);
      return { start, end: await system.awaitCompleted(produced) };
    }));
  }
  return results;
}
