// Cost of one enqueue (not a test): statements the app sends, write transactions, and CPU of this
// process (server, embedded broker and typed client together), over N `jobs.enqueue` calls, one
// in flight (one call per HTTP request) and then C in flight (httpBatchLink batches them), and
// `jobs.enqueueMany` in batches of 50. On a scratch PostgreSQL database it creates and drops.
//   npx tsx test/perf/measureEnqueue.ts [--calls 2000] [--concurrency 16] [--skip-many] [--admin postgres://postgres@127.0.0.1:5432/postgres]
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import postgres from 'postgres';
import { createJobsClient } from '../../client/createJobsClient.ts';
import { signToken } from '../../server/auth/token.ts';
import { startServer, type ServerConfig } from '../../server/startServer.ts';
import { countStatements } from './statementCounter.ts';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '16' },
    admin: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
    'skip-many': { type: 'boolean', default: false },
  },
});
const calls = Number(values.calls);
const concurrency = Number(values.concurrency);
const name = `jobwire_perf_${randomBytes(4).toString('hex')}`;
const admin = postgres(values.admin, { max: 1, onnotice: () => {} });
await admin.unsafe(`CREATE DATABASE ${name}`);
const url = new URL(values.admin);
url.pathname = `/${name}`;

const counter = countStatements();
const secret = 'perf-secret-0123456789abcdef0123456789';
// `onStatement` is an `openDatabase` option that `ServerConfig.database` passes through.
const database = { url: url.toString(), onStatement: counter.onStatement } as ServerConfig['database'];
const server = await startServer({
  port: 0,
  database,
  qstash: { embedded: { port: 0 } },
  authSecret: secret,
  email: { from: 'perf <p@jobwire.test>', mailboxDir: mkdtempSync(join(tmpdir(), 'perf-mail-')) },
  log: pino({ level: 'warn' }),
  security: { enqueueRateLimit: { tokens: 1_000_000, perMs: 1_000 } },
  defaultSchedules: false,
  sweeper: { intervalMs: 3_600_000 },
});
const client = createJobsClient({ url: `${server.url}/trpc`, token: await signToken({ userId: '1', organizationId: 1, role: 'admin' }, secret) });
const job = (i: number) => ({ type: 'send-email' as const, payload: { to: `p${i}@example.com`, template: 'welcome' as const, data: { recipientName: 'P' } }, options: { delay: 3_600_000 } });

let idleCpuMsPerS = 0;
const xacts = async () => Number((await admin`SELECT xact_commit FROM pg_stat_database WHERE datname = ${name}`)[0]!.xact_commit);

async function measure(label: string, jobs: number, run: () => Promise<void>): Promise<string> {
  await new Promise((r) => setTimeout(r, 1_100)); // let the broker's and the stats' background work settle
  await admin`SELECT pg_stat_clear_snapshot()`;
  const xactsBefore = await xacts();
  counter.reset();
  const cpu = process.cpuUsage();
  const started = performance.now();
  await run();
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const counted = counter.snapshot();
  await new Promise((r) => setTimeout(r, 1_100)); // stats are flushed at most once a second
  await admin`SELECT pg_stat_clear_snapshot()`;
  const allXacts = (await xacts()) - xactsBefore;
  const per = (n: number) => (n / jobs).toFixed(2);
  return [
    `${label}: ${jobs} jobs in ${seconds.toFixed(1)} s (${(jobs / seconds).toFixed(0)}/s)`,
    `  app statements/job ${per(counted.statements)} (writes ${per(counted.writeStatements)}), app write transactions/job ${per(counted.writeTransactions)}, all commits in the database/job (app + broker, read-only included) ${per(allXacts)}`,
    `  CPU/job ${((used.user + used.system) / 1000 / jobs).toFixed(2)} ms (user ${(used.user / 1000 / jobs).toFixed(2)}, system ${(used.system / 1000 / jobs).toFixed(2)}); less idle CPU ${((used.user + used.system) / 1000 / jobs - (idleCpuMsPerS * seconds) / jobs).toFixed(2)} ms`,
  ].join('\n');
}

async function inFlight(n: number, c: number, call: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: c }, async () => {
    while (next < n) await call(next++);
  }));
}

for (let i = 0; i < 100; i++) await client.jobs.enqueue.mutate(job(-i)); // warm-up
// What the process burns with nothing to do (timers, the broker's housekeeping), to tell apart from the enqueues' own CPU.
await new Promise((r) => setTimeout(r, 1_100));
const idleFrom = process.cpuUsage();
await new Promise((r) => setTimeout(r, 5_000));
const idle = process.cpuUsage(idleFrom);
idleCpuMsPerS = (idle.user + idle.system) / 1000 / 5;
const lines = [`calls ${calls}; PostgreSQL ${name}; idle CPU ${idleCpuMsPerS.toFixed(2)} ms/s`];
lines.push(await measure('enqueue, 1 in flight', calls, () => inFlight(calls, 1, (i) => client.jobs.enqueue.mutate(job(i)))));
lines.push(await measure(`enqueue, ${concurrency} in flight`, calls, () => inFlight(calls, concurrency, (i) => client.jobs.enqueue.mutate(job(calls + i)))));
if (!values['skip-many']) {
  lines.push(await measure('enqueueMany, 50 per call, 1 in flight', calls, () => inFlight(calls / 50, 1, (b) => client.jobs.enqueueMany.mutate({ jobs: Array.from({ length: 50 }, (_, i) => job(2 * calls + b * 50 + i)) }))));
}
process.stdout.write(lines.join('\n') + '\n');
await server.stop();
await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
await admin.end();
