/**
 * `npm run test:faults`: the fault suite (issue 15). Each scenario runs jobwire as `npm start` does
 * (a real process), enqueues FAULT_JOBS email jobs (default 2,000) through the typed client,
 * injects one fault, and checks the promises from the job timeline (job_events), not from side
 * effects that deduplicate themselves:
 *   lost   acknowledged jobs (enqueue returned an id) missing or not completed in the end
 *   double completed jobs that started an attempt after completing, or completed twice
 *   stuck  jobs not completed within the scenario's drain budget
 *   drain_s seconds from the end of the fault (restart, return) until every job completed
 * One line per scenario; the exit code is 1 if any promise is broken.
 *
 * Scenarios: kill-9, broker-down-30s, db-connections-terminated, postgres-restart, half-open-proxy,
 * clock-step (needs Debian's faketime package for libfaketime).
 *
 * PostgreSQL scenarios run on a cluster of their own (initdb + pg_ctl in a temporary directory,
 * as the `postgres` user when run as root), so nothing else on the machine is disturbed.
 * Options: FAULT_JOBS, FAULT_SCENARIOS (comma-separated names), FAULT_DRIVERS (postgres,pglite),
 * FAULT_VERBOSE (the processes' logs, the database's sessions while the drain stalls, events per second around the fault, the timeline of unfinished
 * jobs or else of the last to complete), FAULT_LOG_LEVEL (default warn), FAULT_PROGRESS (completed
 * jobs once a second through the drain), FAULT_CPU_PROF_DIR (each server and broker process writes a
 * V8 CPU profile there; the last ones stop with SIGTERM instead of SIGKILL so that they can).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { createJobsClient } from '../../client/createJobsClient.ts';
import { signToken } from '../../server/auth/token.ts';
import { QSTASH_DEV_CURRENT_SIGNING_KEY, QSTASH_DEV_NEXT_SIGNING_KEY, QSTASH_DEV_TOKEN } from '../../server/env.ts';
import { startTcpProxy, type TcpProxy } from './support/tcpProxy.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
/** Debian's `faketime` package: fakes one process's wall clock (the clock-step scenario). */
const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
const JOBS = Number(process.env.FAULT_JOBS ?? 2_000);
const AUTH_SECRET = 'fault-suite-secret-0123456789abcdef0123456789';
const only = process.env.FAULT_SCENARIOS?.split(',').filter(Boolean);
const drivers = (process.env.FAULT_DRIVERS ?? 'postgres,pglite').split(',');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line: string) => process.stderr.write(`  ${line}\n`);

// ---------------------------------------------------------------- processes

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo; // a TCP listener
      server.close(() => resolve(port));
    });
  });
}

/**
 * The suite runs the compiled server, as `npm start` does (scripts/build.mjs), from a build of its
 * own under node_modules/.cache (packages resolve from there; dist/ is left to its owners).
 */
const BUILD_DIR = join(ROOT, 'node_modules', '.cache', 'jobwire-faults-dist');

/** How a scenario's processes end once it is over: gently when they must write their CPU profiles. */
const finalSignal: NodeJS.Signals = process.env.FAULT_CPU_PROF_DIR ? 'SIGTERM' : 'SIGKILL';

/** Every process the suite started, killed if the suite itself is interrupted. */
const children = new Set<ChildProcess>();

function node(args: string[], env: Record<string, string>, name: string): ChildProcess {
  const [entry, ...rest] = args;
  const verbose = Boolean(process.env.FAULT_VERBOSE);
  const child = spawn(process.execPath, [...(process.env.FAULT_CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.FAULT_CPU_PROF_DIR}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`] : []), join(BUILD_DIR, entry!.replace(/\.ts$/, '.js')), ...rest], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', verbose ? 'pipe' : 'ignore', 'pipe'] });
  // FAULT_VERBOSE: the process's output (its pino log is on stdout) goes to stderr, each chunk tagged.
  const forward = (chunk: Buffer) => verbose && process.stderr.write(`[${name}] ${chunk}`);
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;
async function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL') {
  if (exited(child)) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await gone;
}

async function httpStatus(url: string, timeoutMs = 2_000): Promise<number | undefined> {
  return fetch(url, { signal: AbortSignal.timeout(timeoutMs) }).then((r) => r.status, () => undefined);
}

async function until(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 200): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return true;
    await sleep(intervalMs);
  }
  return false;
}

// ---------------------------------------------------------------- a PostgreSQL cluster of our own

interface Cluster {
  port: number;
  url(db?: string): string;
  restart(): void;
  stop(): void;
}

function startCluster(): Cluster {
  const bin = readdirSync('/usr/lib/postgresql').sort().reverse().map((v) => `/usr/lib/postgresql/${v}/bin`).find((d) => existsSync(join(d, 'initdb')));
  if (!bin) throw new Error('initdb not found under /usr/lib/postgresql/*/bin');
  const dir = mkdtempSync(join(tmpdir(), 'jobwire-faults-pg-'));
  chmodSync(dir, 0o777);
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) => {
    const r = asRoot ? spawnSync('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { encoding: 'utf8' }) : spawnSync(join(bin, cmd), args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr || r.stdout}`);
  };
  const data = join(dir, 'data');
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
  run('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', 'start']);
  return {
    port,
    url: (db = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${db}`,
    restart: () => run('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', '-m', 'fast', 'restart']),
    stop() {
      try {
        run('pg_ctl', ['-D', data, '-w', '-m', 'immediate', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

// ---------------------------------------------------------------- one run of jobwire

interface Run {
  url: string;
  start(): Promise<void>;
  /** The fault: SIGKILL. */
  kill(): Promise<void>;
  /** The end of a scenario, before its timeline is read. */
  stop(): Promise<void>;
  startBroker?(): Promise<void>;
  killBroker?(): Promise<void>;
  server(): ChildProcess;
  /** Job timeline rows, read after the server stopped (PGlite) or live (PostgreSQL). */
  timeline(): Promise<Array<{ job_id: string; status: string }>>;
  /** FAULT_VERBOSE: prints the row, the timeline and the broker's record of a few unfinished jobs, else the last to complete (PostgreSQL). */
  explain(jobIds: string[]): Promise<void>;
  /** FAULT_VERBOSE, PostgreSQL: the database's sessions (state, waits, blockers, statement), printed while the drain makes no progress. */
  activity?(): Promise<void>;
  dispose(): Promise<void>;
}

async function prepareRun(
  driver: 'postgres' | 'pglite',
  opts: { cluster?: Cluster; externalBroker?: boolean; databaseUrl?: (url: string) => string; serverEnv?: (dataDir: string) => Record<string, string> },
): Promise<Run> {
  const dataDir = mkdtempSync(join(tmpdir(), 'jobwire-faults-'));
  let dbUrl: string | undefined;
  if (driver === 'postgres') {
    const name = `faults_${Date.now().toString(36)}`;
    const admin = postgres(opts.cluster!.url(), { max: 1, onnotice: () => {} });
    await admin.unsafe(`CREATE DATABASE ${name}`);
    await admin.end();
    dbUrl = opts.cluster!.url(name);
  }
  const [port, brokerPort] = [await freePort(), await freePort()];
  const env: Record<string, string> = {
    NODE_ENV: 'development',
    PORT: String(port),
    QSTASH_DEV_PORT: String(brokerPort),
    DATA_DIR: dataDir,
    AUTH_SECRET,
    ENQUEUE_RATE_LIMIT: 'off',
    LOG_LEVEL: process.env.FAULT_LOG_LEVEL ?? 'warn',
    ...(dbUrl ? { DATABASE_URL: opts.databaseUrl ? opts.databaseUrl(dbUrl) : dbUrl } : {}),
    ...(opts.externalBroker
      ? { QSTASH_URL: `http://127.0.0.1:${brokerPort}`, QSTASH_TOKEN: QSTASH_DEV_TOKEN, QSTASH_CURRENT_SIGNING_KEY: QSTASH_DEV_CURRENT_SIGNING_KEY, QSTASH_NEXT_SIGNING_KEY: QSTASH_DEV_NEXT_SIGNING_KEY }
      : {}),
  };
  Object.assign(env, opts.serverEnv?.(dataDir));
  const url = `http://127.0.0.1:${port}`;
  let server: ChildProcess | undefined;
  let broker: ChildProcess | undefined;
  const run: Run = {
    url,
    server: () => server!, // set by start()
    async start() {
      server = node(['server/main.ts'], env, 'server');
      if (!(await until(async () => (await httpStatus(`${url}/readyz`)) === 200, 120_000))) throw new Error('server did not become ready');
    },
    async kill() {
      if (server) await kill(server);
    },
    async stop() {
      if (server) await kill(server, finalSignal);
    },
    async timeline() {
      if (dbUrl) {
        const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
        try {
          return await sql<Array<{ job_id: string; status: string }>>`SELECT job_id::text, status FROM job_events ORDER BY id`;
        } finally {
          await sql.end();
        }
      }
      const pg = new PGlite(join(dataDir, 'pglite'));
      try {
        return (await pg.query<{ job_id: string; status: string }>('SELECT job_id::text, status FROM job_events ORDER BY id')).rows;
      } finally {
        await pg.close();
      }
    },
    async explain(jobIds) {
      if (!dbUrl) {
        // PGlite (read after the server stopped): where the unfinished jobs are, and two of them.
        const pg = new PGlite(join(dataDir, 'pglite'));
        try {
          const counts = (await pg.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM job_executions GROUP BY 1')).rows;
          log(`jobs by status ${counts.map((c) => `${c.status}=${c.n}`).join(' ')}`);
          for (const jobId of jobIds.slice(0, 2)) {
            const row = (await pg.query('SELECT status, retry_count, publish_generation, published_at, message_id, run_at, next_attempt_at, lease_until, updated_at, now() AS now FROM job_executions WHERE job_id = $1', [jobId])).rows[0];
            log(`job ${jobId} ${JSON.stringify(row)}`);
            for (const e of (await pg.query('SELECT status, retry_count, message, at FROM job_events WHERE job_id = $1 ORDER BY id', [jobId])).rows) log(`  event ${JSON.stringify(e)}`);
          }
        } finally {
          await pg.close();
        }
        return;
      }
      const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
      try {
        // Events per second around the end of the fault: when enqueues were taken and jobs completed again.
        const perSecond = await sql`SELECT floor(extract(epoch FROM at) - ${faultEnd / 1000})::int AS s, status, count(*)::int AS n FROM job_events
          WHERE at > to_timestamp(${faultEnd / 1000 - 5}) GROUP BY 1, 2 ORDER BY 1, 2`;
        const brokerPerSecond = await sql`SELECT floor(time / 1000.0 - ${faultEnd / 1000})::int AS s, 'broker_' || lower(state) AS status, count(*)::int AS n FROM qstash.events
          WHERE time > ${faultEnd - 5_000} AND state IN ('CREATED', 'DELIVERED', 'RETRY', 'ERROR', 'FAILED') GROUP BY 1, 2 ORDER BY 1, 2`;
        const bySecond = new Map<number, string[]>();
        for (const r of [...perSecond, ...brokerPerSecond].sort((a, b) => (a.s as number) - (b.s as number))) bySecond.set(r.s as number, [...(bySecond.get(r.s as number) ?? []), `${r.status}=${r.n}`]);
        for (const [second, counts] of bySecond) log(`t${second >= 0 ? '+' : ''}${second}s ${counts.join(' ')}`);
        if (jobIds.length === 0) jobIds = (await sql`SELECT job_id::text FROM job_events WHERE status = 'completed' ORDER BY at DESC LIMIT 3`).map((r) => r.job_id as string);
        for (const jobId of jobIds.slice(0, 5)) {
          const [row] = await sql`SELECT status, retry_count, publish_generation, published_at, message_id, next_attempt_at, lease_until, updated_at FROM job_executions WHERE job_id = ${jobId}`;
          log(`job ${jobId} ${JSON.stringify(row)}`);
          for (const e of await sql`SELECT status, retry_count, message, at FROM job_events WHERE job_id = ${jobId} ORDER BY id`) log(`  event ${JSON.stringify(e)}`);
          const messages = await sql`SELECT id, state, retried, max_retries, due_at FROM qstash.messages WHERE position(${jobId}::text::bytea in body) > 0`;
          const dead = await sql`SELECT message_id, dlq_id, response_status, created_at FROM qstash.dlq WHERE position(${jobId}::text::bytea in body) > 0`;
          for (const m of messages) log(`  broker message ${JSON.stringify(m)}`);
          for (const d of dead) log(`  broker dlq ${JSON.stringify(d)}`);
          const ids = [...messages.map((m) => m.id as string), ...dead.map((d) => d.message_id as string), ...(row?.message_id ? [row.message_id as string] : [])];
          for (const e of await sql`SELECT message_id, state, time, detail FROM qstash.events WHERE message_id IN ${sql(ids.length ? ids : [''])} ORDER BY seq`) log(`  broker event ${JSON.stringify(e)}`);
        }
      } finally {
        await sql.end();
      }
    },
    ...(dbUrl
      ? {
          async activity() {
            const sql = postgres(dbUrl!, { max: 1, onnotice: () => {} });
            try {
              const rows = await sql`SELECT pid, application_name AS app, state, wait_event_type || ':' || wait_event AS wait, pg_blocking_pids(pid) AS blocked_by,
                round(extract(epoch FROM now() - xact_start)::numeric, 1) AS xact_s, round(extract(epoch FROM now() - state_change)::numeric, 1) AS state_s, left(query, 160) AS query
                FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND (state <> 'idle' OR xact_start IS NOT NULL) ORDER BY xact_start NULLS LAST`;
              for (const row of rows) log(`  session ${JSON.stringify(row)}`);
              if (rows.length === 0) log('  no session busy or in a transaction');
            } finally {
              await sql.end();
            }
          },
        }
      : {}),
    async dispose() {
      if (server) await kill(server, 'SIGTERM');
      if (broker) await kill(broker, finalSignal);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  if (opts.externalBroker) {
    const brokerEnv = { LOG_LEVEL: env.LOG_LEVEL!, ...(dbUrl ? { DATABASE_URL: dbUrl } : { DATA_DIR: join(dataDir, 'broker') }) };
    run.startBroker = async () => {
      broker = node(['server/broker/cli.ts', '--port', String(brokerPort)], brokerEnv, 'broker');
      if (!(await until(async () => (await fetch(`http://127.0.0.1:${brokerPort}/v2/queues`, { headers: { authorization: `Bearer ${QSTASH_DEV_TOKEN}` } }).catch(() => undefined)) !== undefined, 60_000))) {
        throw new Error('broker did not start');
      }
    };
    run.killBroker = async () => {
      if (broker) await kill(broker);
    };
  }
  return run;
}

// ---------------------------------------------------------------- load and measurement

/** Enqueues `JOBS` emails, 50 callers, each call retried with its idempotency key until acknowledged. */
async function enqueueAll(run: Run, acked: Map<number, string>, from = 0, to = JOBS): Promise<void> {
  const token = await signToken({ userId: '1', organizationId: 1, role: 'admin' }, AUTH_SECRET);
  const client = createJobsClient({ url: `${run.url}/trpc`, token });
  let next = from;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next < to) {
        const i = next++;
        for (;;) {
          const result = await client.jobs.enqueue
            .mutate({ type: 'send-email', payload: { to: `user${i}@example.com`, template: 'welcome', data: { recipientName: `User ${i}` } }, idempotencyKey: `fault-${i}` })
            .catch(() => undefined);
          if (result) {
            acked.set(i, result.jobId);
            break;
          }
          await sleep(200);
        }
      }
    }),
  );
}

async function completedCount(run: Run): Promise<number> {
  const token = await signToken({ userId: '1', organizationId: 1, role: 'admin' }, AUTH_SECRET);
  const response = await fetch(`${run.url}/api/admin/job-health`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5_000) });
  if (!response.ok) return -1;
  const body = (await response.json()) as { stats: Array<{ status: string; count: number }> };
  return body.stats.find((s) => s.status === 'completed')?.count ?? 0;
}

/** When the last fault ended (FAULT_VERBOSE explains the drain relative to it). */
let faultEnd = 0;

/** Seconds from `since` until every job completed (polled through the API); undefined past `budgetS`. */
/**
 * Jobs not finished yet (pending, retrying, processing), whenever created: the dashboard's queue.
 * For a scenario that moves the server's clock, where job-health's "created in the last hour"
 * leaves out the jobs created while the clock was an hour behind.
 */
async function unfinishedCount(run: Run): Promise<number> {
  const token = await signToken({ userId: '1', organizationId: 1, role: 'admin' }, AUTH_SECRET);
  const client = createJobsClient({ url: `${run.url}/trpc`, token });
  const { queue } = await client.dashboard.overview.query({});
  return queue.reduce((sum, row) => sum + row.count, 0);
}

async function drain(run: Run, since: number, budgetS: number, opts: { byQueue?: { acked: Map<number, string> } } = {}): Promise<number | undefined> {
  faultEnd = since;
  let lastLog = 0;
  let lastCount = -1;
  let lastProgress = Date.now();
  const done = await until(
    async () => {
      const count = opts.byQueue ? (opts.byQueue.acked.size >= JOBS ? JOBS - (await unfinishedCount(run)) : 0) : await completedCount(run);
      if (count !== lastCount) [lastCount, lastProgress] = [count, Date.now()];
      // FAULT_VERBOSE: what the database's sessions do while no job completes for 3 s.
      else if (process.env.FAULT_VERBOSE && run.activity && Date.now() - lastProgress >= 3_000) {
        lastProgress = Date.now();
        log(`t+${((Date.now() - since) / 1000).toFixed(1)}s no job completed for 3 s (completed=${count})`);
        await run.activity().catch((error: unknown) => log(`  sessions unavailable: ${String(error)}`));
      }
      // FAULT_PROGRESS: completed jobs once a second through the drain.
      if (process.env.FAULT_PROGRESS && Date.now() - lastLog >= 1_000) {
        lastLog = Date.now();
        log(`t+${((Date.now() - since) / 1000).toFixed(1)}s completed=${count}`);
      }
      return count >= JOBS;
    },
    budgetS * 1000 + 5_000,
    250,
  );
  return done ? (Date.now() - since) / 1000 : undefined;
}

interface Verdict {
  lost: number;
  double: number;
  stuck: number;
  drainS: number | undefined;
  reruns: number;
  extra?: string;
}

async function judge(run: Run, acked: Map<number, string>, drainS: number | undefined, budgetS: number): Promise<Verdict> {
  const events = await run.timeline();
  const byJob = new Map<string, string[]>();
  for (const e of events) byJob.set(e.job_id, [...(byJob.get(e.job_id) ?? []), e.status]);
  let lost = 0;
  let double = 0;
  let stuck = 0;
  let reruns = 0;
  for (const jobId of acked.values()) {
    const statuses = byJob.get(jobId);
    if (!statuses) {
      lost++;
      continue;
    }
    const completedAt = statuses.indexOf('completed');
    if (completedAt < 0) stuck++;
    if (statuses.filter((s) => s === 'completed').length > 1 || (completedAt >= 0 && statuses.slice(completedAt + 1).includes('processing'))) double++;
    if (statuses.filter((s) => s === 'processing').length > 1) reruns++;
  }
  lost += JOBS - acked.size; // never acknowledged within the run counts too
  if (drainS === undefined || drainS > budgetS) stuck = Math.max(stuck, 1);
  if (process.env.FAULT_VERBOSE) await run.explain([...acked.values()].filter((jobId) => !byJob.get(jobId)?.includes('completed')));
  return { lost, double, stuck, drainS, reruns };
}

// ---------------------------------------------------------------- scenarios

interface Scenario {
  name: string;
  drivers: Array<'postgres' | 'pglite'>;
  budgetS: number;
  run(driver: 'postgres' | 'pglite', cluster: Cluster | undefined): Promise<Verdict>;
}

/** Waits until some of the enqueued jobs completed (the run is mid-way). */
const midRun = (run: Run) => until(async () => (await completedCount(run)) >= Math.min(200, JOBS / 10), 120_000, 100);

const scenarios: Scenario[] = [
  {
    name: 'kill-9',
    drivers: ['postgres', 'pglite'],
    budgetS: 15,
    async run(driver, cluster) {
      const run = await prepareRun(driver, { cluster });
      try {
        await run.start();
        const acked = new Map<number, string>();
        await enqueueAll(run, acked);
        await midRun(run);
        await run.kill();
        const restart = Date.now();
        await run.start();
        const bootS = (Date.now() - restart) / 1000;
        const drainS = await drain(run, restart, 15);
        await run.stop(); // PGlite: its files are read after the process is gone
        return { ...(await judge(run, acked, drainS, 15)), extra: `boot_s=${bootS.toFixed(1)}` };
      } finally {
        await run.dispose();
      }
    },
  },
  {
    name: 'broker-down-30s',
    drivers: ['postgres', 'pglite'],
    budgetS: 10,
    async run(driver, cluster) {
      const run = await prepareRun(driver, { cluster, externalBroker: true });
      try {
        await run.startBroker!();
        await run.start();
        const acked = new Map<number, string>();
        const half = Math.floor(JOBS / 2);
        await enqueueAll(run, acked, 0, half);
        await midRun(run);
        await run.killBroker!();
        const down = Date.now();
        await enqueueAll(run, acked, half, JOBS); // accepted while the broker is away: the outbox keeps them
        await sleep(Math.max(0, 30_000 - (Date.now() - down)));
        const back = Date.now();
        await run.startBroker!();
        const brokerBootS = (Date.now() - back) / 1000;
        const drainS = await drain(run, back, 10);
        await run.stop();
        return { ...(await judge(run, acked, drainS, 10)), extra: `broker_boot_s=${brokerBootS.toFixed(1)}` };
      } finally {
        await run.dispose();
      }
    },
  },
  {
    name: 'db-connections-terminated',
    drivers: ['postgres'],
    budgetS: 15,
    async run(driver, cluster) {
      const run = await prepareRun(driver, { cluster });
      try {
        await run.start();
        const acked = new Map<number, string>();
        const loading = enqueueAll(run, acked);
        await midRun(run);
        const admin = postgres(cluster!.url(), { max: 1, onnotice: () => {} });
        let healthzFailures = 0;
        let stop = false;
        const probing = (async () => {
          while (!stop) {
            if ((await httpStatus(`${run.url}/healthz`, 1_000)) !== 200) healthzFailures++;
            await sleep(200);
          }
        })();
        for (let i = 0; i < 10; i++) {
          await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`.catch(() => undefined);
          await sleep(2_000);
        }
        await admin.end().catch(() => undefined);
        const end = Date.now();
        await loading;
        const drainS = await drain(run, end, 15);
        stop = true;
        await probing;
        const died = exited(run.server());
        const verdict = await judge(run, acked, drainS, 15);
        return { ...verdict, stuck: verdict.stuck + (died ? 1 : 0), extra: `healthz_failures=${healthzFailures} process_died=${died}`, lost: verdict.lost + healthzFailures };
      } finally {
        await run.dispose();
      }
    },
  },
  {
    name: 'postgres-restart',
    drivers: ['postgres'],
    budgetS: 15,
    async run(driver, cluster) {
      const run = await prepareRun(driver, { cluster });
      try {
        await run.start();
        const acked = new Map<number, string>();
        const loading = enqueueAll(run, acked);
        await midRun(run);
        cluster!.restart();
        const back = Date.now();
        await loading;
        const drainS = await drain(run, back, 15);
        const died = exited(run.server());
        const verdict = await judge(run, acked, drainS, 15);
        return { ...verdict, stuck: verdict.stuck + (died ? 1 : 0), extra: `process_died=${died}` };
      } finally {
        await run.dispose();
      }
    },
  },
  {
    // The server's wall clock steps back an hour mid-run, then forward again (an NTP step, a VM
    // resumed); its monotonic clock and the database's clock do not move. libfaketime
    // (Debian's `faketime`) fakes the server process's clock alone.
    name: 'clock-step',
    drivers: ['postgres', 'pglite'],
    budgetS: 15,
    async run(driver, cluster) {
      if (!existsSync(LIBFAKETIME)) throw new Error(`clock-step needs ${LIBFAKETIME} (apt-get install faketime)`);
      let clockFile = '';
      const run = await prepareRun(driver, {
        cluster,
        serverEnv: (dataDir) => {
          clockFile = join(dataDir, 'faketime');
          writeFileSync(clockFile, '+0');
          return { LD_PRELOAD: LIBFAKETIME, FAKETIME_TIMESTAMP_FILE: clockFile, FAKETIME_NO_CACHE: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' };
        },
      });
      try {
        await run.start();
        const acked = new Map<number, string>();
        const loading = enqueueAll(run, acked);
        await midRun(run);
        writeFileSync(clockFile, '-3600');
        await sleep(3_000);
        writeFileSync(clockFile, '+0');
        const end = Date.now();
        await loading;
        const drainS = await drain(run, end, 15, { byQueue: { acked } });
        await run.stop();
        return await judge(run, acked, drainS, 15);
      } finally {
        await run.dispose();
      }
    },
  },
  {
    name: 'half-open-proxy',
    drivers: ['postgres'],
    budgetS: 30,
    async run(driver, cluster) {
      const proxy: TcpProxy = await startTcpProxy({ host: '127.0.0.1', port: cluster!.port });
      const run = await prepareRun(driver, { cluster, databaseUrl: (url) => url.replace(`:${cluster!.port}/`, `:${proxy.port}/`) });
      try {
        await run.start();
        const acked = new Map<number, string>();
        const loading = enqueueAll(run, acked);
        await midRun(run);
        proxy.mode('freeze'); // open connections forward nothing and never close; new ones pass
        const frozen = Date.now();
        proxy.mode('forward');
        await loading;
        const drainS = await drain(run, frozen, 30);
        return await judge(run, acked, drainS, 30);
      } finally {
        await run.dispose();
        await proxy.close();
      }
    },
  },
];

// ---------------------------------------------------------------- main

let failed = false;
let cluster: Cluster | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of children) child.kill('SIGKILL');
    cluster?.stop();
    process.exit(1);
  });
}
const started = Date.now();
try {
  // @ts-expect-error a plain ES module without types
  const { build } = (await import('../../scripts/build.mjs')) as { build(outDir: string): Promise<number> };
  log(`compiled the server in ${await build(BUILD_DIR)} ms`);
  if (drivers.includes('postgres')) cluster = startCluster();
  for (const driver of drivers as Array<'postgres' | 'pglite'>) {
    for (const scenario of scenarios) {
      if (!scenario.drivers.includes(driver) || (only && !only.includes(scenario.name))) continue;
      const t0 = Date.now();
      let line: string;
      try {
        const v = await scenario.run(driver, cluster);
        const ok = v.lost === 0 && v.double === 0 && v.stuck === 0;
        failed ||= !ok;
        line = `${ok ? 'ok  ' : 'FAIL'} ${scenario.name} [${driver}] lost=${v.lost} double=${v.double} stuck=${v.stuck} drain_s=${v.drainS?.toFixed(1) ?? 'n/a'} (budget ${scenario.budgetS}) reruns=${v.reruns}${v.extra ? ` ${v.extra}` : ''} took_s=${((Date.now() - t0) / 1000).toFixed(0)}`;
      } catch (error) {
        failed = true;
        line = `FAIL ${scenario.name} [${driver}] error: ${error instanceof Error ? error.message : String(error)}`;
      }
      process.stdout.write(`${line}\n`);
    }
  }
} finally {
  cluster?.stop();
}
log(`fault suite ${failed ? 'FAILED' : 'passed'} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.exit(failed ? 1 : 0);
