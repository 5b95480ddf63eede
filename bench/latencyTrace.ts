// Where one job's time goes at light load: jobs one at a time (each enqueued once the previous one
// completed, as the peer benchmark's latency workload does), every stage timestamped without
// touching the server's code: PostgreSQL statements through a timing TCP proxy (sent, and answered
// by ReadyForQuery), HTTP through Node's diagnostics channels (the publish, the broker's delivery,
// the worker route), the handler's start, NOTIFYs, and completion as the peer benchmark observes
// it (bench/peers/jobwireChild.ts: the arrival of the settle's NOTIFY, once the row reads
// completed). Prints each stage's time since the enqueue call and each step along the path,
// median and fastest. Server and caller share this process; the proxy runs in a child.
//
//   npx tsx bench/latencyTrace.ts [--jobs 50] [--admin postgres://…] [--pglite]
//
// With --pglite there is no wire to time: statements and NOTIFYs are left out.
import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { fork } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { createJobsClient } from '../client/createJobsClient.ts';
import { queryRows } from '../server/db/database.ts';
import { jobExecutions } from '../server/db/schema.ts';
import { JOB_EVENTS_CHANNEL } from '../server/jobs/recordEvent.ts';
import { benchToken, startBenchServer } from './benchServer.ts';
import { percentile } from './percentile.ts';
import { payloadOf } from './peers/system.ts';
import { scratchDatabase } from './scratchDatabase.ts';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '50' },
    admin: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
    pglite: { type: 'boolean', default: false },
    'proxy-child': { type: 'string' },
  },
});

const jobs = Number(values.jobs);
/** Milliseconds comparable across processes (the proxy runs in a child). */
const now = () => performance.timeOrigin + performance.now();
const events: { at: number; what: string }[] = [];
const proxyChild = process.argv.indexOf('--proxy-child');
const mark = (what: string, at = now()) => (proxyChild === -1 ? events.push({ at, what }) : process.send?.({ at, what }));

// The proxy runs in a child process of its own, so that its forwarding never waits for the
// server's event loop (it would add two hops to every statement).
if (values['proxy-child']) {
  const [host = '127.0.0.1', port = '5432'] = values['proxy-child'].split(':');
  const proxy = await startTimingProxy({ host, port: Number(port) });
  process.send?.({ port: proxy.port });
  process.on('disconnect', () => process.exit(0));
  await new Promise(() => {}); // serves until the parent disconnects; nothing below runs here
}

/** What a statement is, from its text: the hot path's statements have recognisable shapes. */
function statementName(text: string): string {
  const t = text.replace(/\s+/g, ' ');
  if (/^(BEGIN|COMMIT|ROLLBACK)/i.test(t)) return t.split(' ')[0]!.toUpperCase();
  if (/LISTEN/i.test(t)) return 'listen';
  if (/INSERT INTO "?job_executions"?/i.test(t)) return 'app: insert job';
  if (/DELETE FROM qstash\.messages m USING input/i.test(t)) return 'broker: record delivery';
  if (/jsonb_to_recordset/i.test(t) && /INSERT INTO qstash\.messages/i.test(t)) return 'broker: accept';
  if (/SET message_id = v\.message_id, published_at/i.test(t)) return 'app: stamp published';
  if (/SET\s+status = 'completed'/i.test(t)) return 'app: settle';
  if (/SET\s+status = 'processing'/i.test(t)) return 'app: claim';
  if (/SELECT .*status.* FROM "?job_executions"? WHERE .*id/i.test(t)) return 'bench: poll';
  if (/rate_limit/i.test(t)) return 'app: rate limit';
  return `other: ${t.slice(0, 120)}`;
}

/** A TCP proxy in front of PostgreSQL that marks every statement sent and answered. */
async function startTimingProxy(target: { host: string; port: number }): Promise<{ port: number; close(): void }> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((client) => {
    const connection = ++connections;
    const upstream = net.connect(target.port, target.host);
    sockets.add(client).add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const statements = new Map<string, string>(); // prepared name → text
    let bound = '';
    let pipeline: string[] = []; // statements since the last Sync
    const waiting: string[][] = []; // pipelines sent, each answered by one ReadyForQuery
    let startup = true;
    let pending: Buffer = Buffer.alloc(0);
    let firstByteAt: number | undefined; // of the pipeline being sent: a late Sync means it came in pieces
    client.on('data', (chunk: Buffer) => {
      const arrived = now(); // before forwarding: the other side may act on it at once
      firstByteAt ??= arrived;
      upstream.write(chunk);
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let at = 0;
      for (;;) {
        if (startup) {
          if (pending.length - at < 8) break;
          const length = pending.readInt32BE(at);
          if (pending.length - at < length) break;
          startup = [80877103, 80877104, 80877102].includes(pending.readInt32BE(at + 4));
          at += length;
          continue;
        }
        if (pending.length - at < 5) break;
        const length = pending.readInt32BE(at + 1);
        if (pending.length - at < length + 1) break;
        const type = String.fromCharCode(pending[at]!);
        const body = pending.subarray(at + 5, at + 1 + length);
        const cstrings = () => body.toString('utf8').split('\0');
        if (type === 'P') {
          const [name = '', text = ''] = cstrings();
          statements.set(name, text);
        } else if (type === 'B') {
          const [, name = ''] = cstrings();
          bound = statements.get(name) ?? '?';
        } else if (type === 'E') {
          pipeline.push(statementName(bound));
        } else if (type === 'Q') {
          const [text = ''] = cstrings();
          waiting.push([statementName(text)]);
          mark(`sent ${statementName(text)} [c${connection}]`, arrived);
        } else if (type === 'S') {
          waiting.push(pipeline);
          for (const s of pipeline) mark(`sent ${s} [c${connection}]`, arrived);
          const spread = arrived - (firstByteAt ?? arrived);
          if (spread > 0.3 && process.env['TRACE_DUMP']) for (const s of pipeline) mark(`${s} arrived in pieces over ${spread.toFixed(1)} ms [c${connection}]`);
          firstByteAt = undefined;
          pipeline = [];
        }
        at += length + 1;
      }
      pending = pending.subarray(at);
    });
    let back: Buffer = Buffer.alloc(0);
    upstream.on('data', (chunk: Buffer) => {
      const arrived = now();
      client.write(chunk);
      if (startup) return;
      back = back.length ? Buffer.concat([back, chunk]) : chunk;
      let at = 0;
      for (;;) {
        if (back.length - at < 5) break;
        const length = back.readInt32BE(at + 1);
        if (back.length - at < length + 1) break;
        const type = String.fromCharCode(back[at]!);
        if (type === 'Z') for (const s of waiting.shift() ?? []) mark(`done ${s} [c${connection}]`, arrived);
        if (type === 'A') mark(`NOTIFY arrives [c${connection}]`, arrived);
        at += length + 1;
      }
      back = back.subarray(at);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port, // a TCP server's address is an AddressInfo
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

async function forkProxy(target: string): Promise<{ port: number; close(): void }> {
  const child = fork(fileURLToPath(import.meta.url), ['--proxy-child', target], { execArgv: ['--import', 'tsx'] });
  const port = await new Promise<number>((resolve) => {
    child.on('message', (message: { port?: number; at?: number; what?: string }) => {
      if (message.port !== undefined) resolve(message.port);
      else events.push({ at: message.at!, what: message.what! }); // a mark: both are set
    });
  });
  return { port, close: () => child.disconnect() };
}

const route = (url: string | undefined) => (url ?? '').split('?')[0]!.replace(/^\/api\/jobs\/.*/, '/api/jobs/…').replace(/^\/trpc\/.*/, '/trpc').replace(/^\/v2\/publish\/.*/, '/v2/publish/…');
diagnostics.subscribe('http.server.request.start', (m) => {
  const { request, response } = m as { request: IncomingMessage; response: { once(e: string, f: () => void): void } };
  const path = route(request.url);
  mark(`server: ${path} request arrives`);
  response.once('finish', () => mark(`server: ${path} response sent`));
});
diagnostics.subscribe('http.client.request.start', (m) => {
  const { request } = m as { request: ClientRequest };
  const path = route(request.path);
  mark(`broker: delivery request ${path} sent`);
  request.once('response', () => mark(`broker: delivery response ${path} arrives`));
});
diagnostics.subscribe('undici:request:create', (m) => mark(`fetch: ${route((m as { request: { path: string } }).request.path)} sent`));
diagnostics.subscribe('undici:request:headers', (m) => mark(`fetch: ${route((m as { request: { path: string } }).request.path)} answered`));

const scratch = await scratchDatabase(values.pglite ? undefined : values.admin);
const target = scratch.url ? new URL(scratch.url) : undefined;
const proxy = target ? await forkProxy(`${target.hostname}:${target.port || 5432}`) : undefined;
const url = target && proxy ? Object.assign(new URL(target), { host: `127.0.0.1:${proxy.port}` }).toString() : undefined;
const server = await startBenchServer(url, {
  handlers: {
    'send-email': async () => {
      mark('handler runs');
      return null;
    },
  },
  defaultSchedules: false,
});
const client = createJobsClient({ url: `${server.url}/trpc`, token: await benchToken({ userId: '1', organizationId: 1, role: 'admin' }) });
const { db } = server.database;
let last = 0;
/** When each job's last timeline event was heard (LISTEN), and who waits for the next. */
const heard = new Map<string, number>();
let wake = () => {};
await server.database.listen(JOB_EVENTS_CHANNEL, (payload) => {
  heard.set((JSON.parse(payload) as { jobId: string }).jobId, now());
  wake();
});

/** The path one job takes, in order: each step's time is measured from the one before. */
const PATH = [
  'enqueue called',
  'fetch: /trpc sent',
  'server: /trpc request arrives',
  'sent app: insert job',
  'done app: insert job',
  'fetch: /v2/publish/… sent',
  'server: /v2/publish/… request arrives',
  'sent broker: accept',
  'done broker: accept',
  'server: /v2/publish/… response sent',
  'broker: delivery request /api/jobs/… sent',
  'server: /api/jobs/… request arrives',
  'sent app: claim',
  'done app: claim',
  'handler runs',
  'sent app: settle',
  'done app: settle',
  "completed: its settle's NOTIFY heard",
];
const steps = new Map<string, number[]>(PATH.slice(1).map((stage) => [stage, []]));
const perStage = new Map<string, number[]>();
let cpuFrom = process.cpuUsage();
let wallFrom = now();
let eluFrom = performance.eventLoopUtilization();
for (let k = -5; k < jobs; k++) {
  if (k === 0) [cpuFrom, wallFrom, eluFrom] = [process.cpuUsage(), now(), performance.eventLoopUtilization()];
  events.length = 0;
  last = now();
  mark('enqueue called');
  const { jobId } = await client.jobs.enqueue.mutate({ type: 'send-email', payload: payloadOf(k) });
  mark('enqueue returns');
  // As bench/peers/jobwireChild.ts does: reads woken by the job's NOTIFYs, no polling.
  for (;;) {
    const woken = new Promise<void>((resolve) => {
      wake = resolve;
      setTimeout(resolve, 50);
    });
    const [row] = await queryRows<{ status: string }>(db, sql`SELECT ${jobExecutions.status} AS status FROM ${jobExecutions} WHERE ${jobExecutions.id} = ${jobId}`);
    if (row?.status === 'completed') break;
    await woken;
  }
  mark('read sees completed');
  await new Promise((resolve) => setTimeout(resolve, 20)); // let the broker record the delivery
  mark("completed: its settle's NOTIFY heard", heard.get(jobId)); // the job's last event
  events.sort((a, b) => a.at - b.at); // the proxy's marks come over IPC
  if (k < 0) continue;
  if (process.env['TRACE_DUMP'] && k % 10 === 0) for (const { at, what } of events) process.stdout.write(`${(at - last).toFixed(2).padStart(8)} ${what}\n`);
  const seen = new Set<string>();
  for (const { at, what } of events) {
    const stage = what.replace(/ \[c\d+\]$/, ''); // connection ids only in the dumps
    if (seen.has(stage) || stage.includes('bench: poll')) continue; // first occurrence per job
    seen.add(stage);
    perStage.set(stage, [...(perStage.get(stage) ?? []), at - last]);
  }
  const firstAt = new Map<string, number>();
  for (const { at, what } of events) if (!firstAt.has(what.replace(/ \[c\d+\]$/, ''))) firstAt.set(what.replace(/ \[c\d+\]$/, ''), at);
  PATH.slice(1).forEach((stage, i) => {
    const from = firstAt.get(PATH[i]!);
    const to = firstAt.get(stage);
    if (from !== undefined && to !== undefined) steps.get(stage)!.push(to - from);
  });
}

const rows = [...perStage].map(([what, times]) => ({ what, sorted: [...times].sort((a, b) => a - b) })).map(({ what, sorted }) => ({ what, p50: percentile(sorted, 50), min: sorted[0]!, n: sorted.length })).sort((a, b) => a.p50 - b.p50);
process.stdout.write(`${values.pglite ? 'PGlite' : 'PostgreSQL'}, ${jobs} jobs one at a time; ms since the enqueue call: median, fastest (n = jobs where the stage occurred)\n`);
for (const { what, p50, min, n } of rows) process.stdout.write(`${p50.toFixed(2).padStart(8)} ${min.toFixed(2).padStart(7)}  ${what}${n === jobs ? '' : `  (n=${n})`}\n`);
process.stdout.write(`\nstep by step along the path: median, fastest (ms from the step before)\n`);
let sum = 0;
for (const [stage, deltas] of steps) {
  const sorted = [...deltas].sort((a, b) => a - b);
  sum += percentile(sorted, 50);
  process.stdout.write(`${percentile(sorted, 50).toFixed(2).padStart(8)} ${(sorted[0] ?? NaN).toFixed(2).padStart(7)}  → ${stage}${sorted.length === jobs ? '' : `  (n=${sorted.length})`}\n`);
}
process.stdout.write(`${sum.toFixed(2).padStart(8)}          sum of the step medians\n`);
const cpu = process.cpuUsage(cpuFrom);
const elu = performance.eventLoopUtilization(eluFrom);
process.stdout.write(`main thread busy per job: ${(elu.active / jobs).toFixed(2)} ms (event loop utilization ${(elu.utilization * 100).toFixed(0)} %)\n`);
process.stdout.write(`CPU of this process (server, broker, caller) per job: ${((cpu.user + cpu.system) / 1000 / jobs).toFixed(2)} ms (${((cpu.user + cpu.system) / 1000 / (now() - wallFrom) * 100).toFixed(0)} % of the wall time, 20 ms pauses included)\n`);
await server.stop();
proxy?.close();
await scratch.drop();
