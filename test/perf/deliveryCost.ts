// What one delivered job costs on the delivery side: statements, write transactions, xids and
// app-process CPU from the signed POST arriving to the settle committed (docs/performance.md,
// "Delivery"). The deliveries are sent by a child process, so the CPU measured is the server's.
//   npx tsx test/perf/deliveryCost.ts [--pglite] [--jobs 1000] [--concurrency 1] [--progress]
// --progress: the handler reports progress once (an update that touches no indexed column).
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { queryRows } from '../../server/db/database.ts';
import { startDeliveryHarness } from './deliveryHarness.ts';

// The broker's side, in its own process: POST each signed delivery, `concurrency` at a time.
const SENDER = `
import { readFileSync } from 'node:fs';
const { url, deliveries, concurrency } = JSON.parse(readFileSync(process.argv[1], 'utf8'));
let next = 0, failed = 0;
async function worker() {
  while (next < deliveries.length) {
    const d = deliveries[next++];
    const res = await fetch(url, { method: 'POST', body: d.body, headers: { 'upstash-signature': d.signature, 'upstash-message-id': 'msg_perf', 'content-type': 'application/json' } });
    await res.arrayBuffer();
    if (res.status !== 200) failed++;
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
if (failed) { console.error(failed + ' deliveries failed'); process.exit(1); }
`;

const { values } = parseArgs({ options: { pglite: { type: 'boolean' }, progress: { type: 'boolean' }, jobs: { type: 'string', default: '1000' }, concurrency: { type: 'string', default: '1' } } });
const jobs = Number(values.jobs);
const concurrency = Number(values.concurrency);
const admin = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const name = `jobwire_delivery_${randomBytes(4).toString('hex')}`;
const psql = (command: string) => execFileSync('psql', [admin, '-qAtc', command], { encoding: 'utf8' });

const url = values.pglite ? undefined : (() => {
  psql(`CREATE DATABASE ${name}`);
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return u.toString();
})();
const dir = mkdtempSync(join(tmpdir(), 'jobwire-perf-'));
const harness = await startDeliveryHarness(url ? { url } : {}, async (payload, ctx) => {
  if (values.progress) await ctx.progress(0.5);
  return { sent: payload.to };
});
try {
  const send = async (ids: string[]) => {
    const file = join(dir, 'deliveries.json');
    writeFileSync(file, JSON.stringify({ url: harness.url, deliveries: await Promise.all(ids.map((id) => harness.signed(id))), concurrency }));
    const started = { cpu: process.cpuUsage(), at: performance.now() };
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', SENDER, file], { stdio: ['ignore', 'inherit', 'inherit'] });
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`sender exited ${code}`))));
    });
    const cpu = process.cpuUsage(started.cpu);
    return { cpuUs: (cpu.user + cpu.system) / ids.length, wallMs: performance.now() - started.at };
  };
  const xmax = async () => Number((await queryRows<{ x: string }>(harness.db, sql`SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS x`))[0]!.x);
  const tableStats = () => queryRows<{ upd: number; hot: number }>(harness.db, sql`SELECT n_tup_upd::int AS upd, n_tup_hot_upd::int AS hot FROM pg_stat_user_tables WHERE relname = 'job_executions'`);

  await send(await harness.seed(Math.min(300, jobs))); // warm-up: JIT, connections, prepared paths
  const ids = await harness.seed(jobs);
  // Backends publish their table statistics within 10 s of going idle (PostgreSQL 15).
  const statsSettle = () => new Promise((r) => setTimeout(r, url ? 11_000 : 0));
  await statsSettle();
  const before = { xid: await xmax(), stats: url ? (await tableStats())[0] : undefined };
  harness.reset();
  const { cpuUs, wallMs } = await send(ids);
  const counted = { ...harness.counted, log: [...harness.counted.log] };
  const xids = (await xmax()) - before.xid - 1; // the read itself is not a transaction; -1 for the snapshot boundary
  const [done] = await queryRows<{ n: number }>(harness.db, sql`SELECT count(*)::int AS n FROM job_executions WHERE status = 'completed' AND job_id IN (SELECT jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb)::uuid)`);
  await statsSettle();
  const after = url ? (await tableStats())[0] : undefined;
  const per = (n: number) => (n / jobs).toFixed(2);
  console.log(JSON.stringify({
    driver: url ? 'postgres' : 'pglite',
    jobs,
    concurrency,
    progress: values.progress === true,
    completed: done?.n,
    statementsPerJob: per(counted.statements),
    writeTransactionsPerJob: per(counted.writeTransactions),
    xidsPerJob: url ? per(xids) : undefined,
    cpuUsPerJob: Math.round(cpuUs),
    deliveriesPerSecond: Math.round(jobs / (wallMs / 1000)),
    hotUpdates: before.stats && after ? `${after.hot - before.stats.hot} of ${after.upd - before.stats.upd}` : undefined,
  }));
  console.log('statements of the last delivery:\n  ' + counted.log.slice(-Math.round(counted.statements / jobs)).join('\n  '));
} finally {
  await harness.stop();
  rmSync(dir, { recursive: true, force: true });
  if (url) psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}
