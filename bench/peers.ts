// jobwire against graphile-worker and pg-boss (not a test): the same workloads on the same
// PostgreSQL, in interleaved rounds (jobwire, graphile-worker, pg-boss, repeat), each system on a
// scratch database of its own that is dropped after its turn; prints medians, jobwire over the best
// peer, and the targets of issue 16. docs/performance.md, "Benchmarks vs peers", says what each
// workload means.
//   npx tsx bench/peers.ts [--jobs 500] [--rounds 3] [--only jobwire,graphile,pgboss] [--pglite]
//     [--callers 50] [--batch 50] [--batches-in-flight 4] [--latency-jobs 50] [--pgboss-latency-jobs 20]
//     [--graphile-concurrency 1] [--pgboss-batch 100] [--pgboss-poll 0.5] [--rate-limit 1000000/1s]
//     [--count-jobs 200] [--warmup 500] [--workloads floor,enqueue,enqueueTyped,enqueueBatch,latency,e2e]
//     [--admin postgres://postgres@127.0.0.1:5432/postgres]
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { startGraphile } from './peers/graphileSystem.ts';
import { startJobwire } from './peers/jobwireSystem.ts';
import { describeMachine } from './peers/machine.ts';
import { startPgBoss } from './peers/pgbossSystem.ts';
import { record, renderTable, renderTargets, type Results } from './peers/report.ts';
import { startStatementProxy, type StatementProxy } from './peers/statementProxy.ts';
import type { System, SystemName } from './peers/system.ts';
import { runWorkloads, type WorkloadName, type WorkloadOptions } from './peers/workloads.ts';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '500' },
    rounds: { type: 'string', default: '3' },
    only: { type: 'string', default: 'jobwire,graphile,pgboss' },
    pglite: { type: 'boolean', default: false },
    callers: { type: 'string', default: '50' },
    batch: { type: 'string', default: '50' },
    'batches-in-flight': { type: 'string', default: '4' },
    'latency-jobs': { type: 'string', default: '50' },
    'pgboss-latency-jobs': { type: 'string', default: '20' },
    'graphile-concurrency': { type: 'string', default: '1' },
    'pgboss-batch': { type: 'string', default: '100' },
    'pgboss-poll': { type: 'string', default: '0.5' },
    'rate-limit': { type: 'string', default: '1000000/1s' },
    'count-jobs': { type: 'string', default: '200' },
    warmup: { type: 'string', default: '500' },
    workloads: { type: 'string' },
    admin: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
  },
});
const int = (name: keyof typeof values) => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number`);
  return n;
};
const jobs = int('jobs');
const rounds = int('rounds');
const callers = int('callers');
const batchSize = int('batch');
const countJobs = int('count-jobs');
const pgbossPoll = Number(values['pgboss-poll']);
const systems: SystemName[] = [];
for (const name of values.only.split(',').map((s) => s.trim())) {
  if (name !== 'jobwire' && name !== 'graphile' && name !== 'pgboss') throw new Error(`--only: unknown system "${name}" (jobwire, graphile, pgboss)`);
  systems.push(name);
  if (name === 'jobwire' && values.pglite) systems.push('jobwire-pglite');
}
const ALL_WORKLOADS: WorkloadName[] = ['floor', 'enqueue', 'enqueueTyped', 'enqueueBatch', 'latency', 'e2e'];
const only = values.workloads ? new Set(values.workloads.split(',').map((w) => w.trim()) as WorkloadName[]) : undefined;
for (const w of only ?? []) if (!ALL_WORKLOADS.includes(w)) throw new Error(`--workloads: unknown workload "${w}" (${ALL_WORKLOADS.join(', ')})`);

const admin = postgres(values.admin, { max: 1, onnotice: () => {} });
const adminUrl = new URL(values.admin);
const xmax = async () => BigInt((await admin<{ x: string }[]>`SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS x`)[0]!.x); // one row
const scratch = new Set<string>();
const say = (line: string) => process.stderr.write(`${line}\n`);
// Interrupted: the scratch databases go too (a jobwire child exits when this process does).
process.once('SIGINT', () => {
  void Promise.allSettled([...scratch].map((name) => admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))).then(() => process.exit(130));
});

async function withDatabase<T>(system: SystemName, run: (url: string) => Promise<T>): Promise<T> {
  const name = `bench_${system.replace('-', '_')}_${randomBytes(4).toString('hex')}`;
  await admin.unsafe(`CREATE DATABASE ${name}`);
  scratch.add(name);
  try {
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return await run(url.toString());
  } finally {
    // Let the system's connections close on their own first: killed ones raise errors in their clients.
    for (let waited = 0; waited < 5_000; waited += 100) {
      const [row] = await admin<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ${name}`;
      if (!row?.n) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    scratch.delete(name);
  }
}

/** Starts one system on its scratch database (`url`), or jobwire on PGlite (null). */
async function start(name: SystemName, url: string | null): Promise<System> {
  switch (name) {
    case 'jobwire':
      return startJobwire({ config: { database: url, rateLimit: values['rate-limit'] }, xmax });
    case 'jobwire-pglite':
      return startJobwire({ config: { database: null, rateLimit: values['rate-limit'] } });
    case 'graphile':
      return startGraphile({ url: url!, concurrency: int('graphile-concurrency'), xmax }); // peers always have a database
    case 'pgboss':
      return startPgBoss({ url: url!, batchSize: int('pgboss-batch'), pollingIntervalSeconds: pgbossPoll, xmax });
  }
}

/** `url` through the counting proxy, when there is one. */
function via(proxy: StatementProxy | undefined, url: string): string {
  if (!proxy) return url;
  const proxied = new URL(url);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(proxy.port);
  return proxied.toString();
}

async function turn(name: SystemName, options: WorkloadOptions, workloads: ReadonlySet<WorkloadName> | undefined, proxy?: StatementProxy) {
  const run = async (url: string | null) => {
    const system = await start(name, url === null ? null : via(proxy, url));
    try {
      return { system, measured: await runWorkloads(system, options, workloads) };
    } finally {
      await system.stop();
    }
  };
  return name === 'jobwire-pglite' ? run(null) : withDatabase(name, run);
}

const optionsFor = (name: SystemName, n: number): WorkloadOptions => ({
  jobs: n,
  callers,
  batchSize,
  batchesInFlight: int('batches-in-flight'),
  latencyJobs: name === 'pgboss' ? Math.min(int('latency-jobs'), int('pgboss-latency-jobs')) : int('latency-jobs'),
  warmup: Math.min(int('warmup'), n),
  progress: say,
  pglite: name === 'jobwire-pglite',
});

const version = (await admin<{ version: string }[]>`SELECT version()`)[0]?.version ?? 'PostgreSQL';
const header = describeMachine(version.split(' on ')[0] ?? version);
const started = Date.now();
const results: Results = new Map();
const batchMethods = new Map<SystemName, string>();
try {
  for (let round = 1; round <= rounds; round++) {
    for (const name of systems) {
      const at = Date.now();
      const { system, measured } = await turn(name, optionsFor(name, jobs), only);
      batchMethods.set(name, system.batchMethod);
      record(results, name, measured);
      say(`round ${round}/${rounds} ${name}: ${((Date.now() - at) / 1000).toFixed(1)} s`);
    }
  }
  // The counting pass: each system once more, behind a proxy that counts what it sends PostgreSQL.
  const counted = new Set<WorkloadName>(['enqueue', 'enqueueBatch', 'e2e'].filter((w) => !only || only.has(w as WorkloadName)) as WorkloadName[]);
  if (countJobs > 0 && counted.size) {
    const proxy = await startStatementProxy({ host: adminUrl.hostname, port: Number(adminUrl.port || 5432) });
    try {
      for (const name of systems.filter((s) => s !== 'jobwire-pglite')) {
        const { measured } = await turn(name, { ...optionsFor(name, countJobs), wire: proxy.counts }, counted, proxy);
        for (const [workload, m] of measured) {
          const kept = results.get(workload)?.get(name)?.[0];
          if (kept && m.wire) kept.wire = m.wire; // statements join the first round's measurement (medians of one value)
        }
        say(`counting pass ${name}: done`);
      }
    } finally {
      await proxy.close();
    }
  }
} finally {
  for (const name of scratch) await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
}

/** How each system that ran was driven. */
function methodLines(): string[] {
  const lines: string[] = [];
  const jobwire = batchMethods.get('jobwire') ?? batchMethods.get('jobwire-pglite');
  if (jobwire) {
    lines.push(
      `jobwire     server + embedded broker in a child process; no-op handler for send-email (startServer({ handlers })); rate limit ${values['rate-limit']};`,
      `            unbatched: httpLink; typed: createJobsClient (httpBatchLink); batches: ${jobwire}`,
      `            floor: bench.floor, a mutation on jobwire's protectedProcedure with jobs.enqueue's input and no database (bench/peers/floorServer.ts)`,
    );
  }
  if (batchMethods.has('graphile')) {
    lines.push(`graphile    addJob / addJobs; run() with concurrency ${int('graphile-concurrency')} (its default is 1); latency to task start, completion from job:complete`);
  }
  if (batchMethods.has('pgboss')) {
    lines.push(`pg-boss     send / insert; work() with batchSize ${int('pgboss-batch')}, pollingIntervalSeconds ${pgbossPoll} (it polls); latency to handler start (${optionsFor('pgboss', jobs).latencyJobs} jobs)`);
  }
  return lines;
}

const pglite = systems.includes('jobwire-pglite');
process.stdout.write(
  [
    'jobwire vs graphile-worker 0.17 and pg-boss 10 (bench/peers.ts; docs/performance.md "Benchmarks vs peers")',
    ...header,
    `method      ${rounds} interleaved round(s) of ${systems.join(', ')}; medians; ${jobs} jobs per workload, ${callers} callers/producers, batches of ${batchSize} (${int('batches-in-flight')} in flight)`,
    `            scratch database per system per round; app CPU from process.cpuUsage (jobwire: bench process + server child over IPC),`,
    `            PostgreSQL CPU from /proc (all postgres processes, machine-wide), write transactions from pg_snapshot_xmax (server-wide),`,
    `            statements from a counting TCP proxy in a separate pass of ${countJobs} jobs (Execute + Query messages, BEGIN/COMMIT included)`,
    ...methodLines(),
    `load avg    ${loadavg().map((l) => l.toFixed(2)).join(' ')} at end; ${((Date.now() - started) / 1000).toFixed(0)} s in all`,
    '',
    renderTable(results, { callers, batchSize }, pglite),
    '',
    'Targets (issue 16):',
    ...renderTargets(results, pglite),
  ].join('\n') + '\n',
);
await admin.end();
