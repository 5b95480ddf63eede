// What each job costs PGlite, statement by statement: the whole server with the embedded broker on
// one in-memory PGlite (as `npm start` without DATABASE_URL), `--jobs` no-op jobs end to end from
// `--producers` concurrent producers through the typed client, and every wire message PGlite runs
// timed (its `execProtocolStream`, which every query, exec and transaction goes through). Prints,
// per statement shape, how many per job and the main-thread milliseconds spent inside PGlite.
//
//   npx tsx bench/pgliteStatements.ts [--jobs 500] [--producers 50]
import { parseArgs } from 'node:util';
import { createJobsClient } from '../client/createJobsClient.ts';
import { createPglite } from '../server/db/database.ts';
import { benchToken, startBenchServer } from './benchServer.ts';
import { payloadOf } from './peers/system.ts';

const { values } = parseArgs({ options: { jobs: { type: 'string', default: '500' }, producers: { type: 'string', default: '50' } } });
const jobs = Number(values.jobs);
const producers = Number(values.producers);

const pglite = await createPglite();
interface Shape { count: number; ms: number }
const shapes = new Map<string, Shape>();
const kinds = new Map<string, Shape>(); // by the first wire message of a call: Parse, Bind, Describe, Execute, Sync, Query
const named = new Map<string, string>(); // prepared statement name → its shape
let current: string | undefined; // the statement the messages belong to (a Parse, Query or Bind names it)
let counting = false;
let insideMs = 0;
const decoder = new TextDecoder();

/** The statement a message runs, by shape (its text without literals, trimmed): Parse and Query carry the text, Bind a prepared statement's name. */
function shapeOf(message: Uint8Array): string | undefined {
  const kind = String.fromCharCode(message[0] ?? 0);
  if (kind !== 'P' && kind !== 'Q' && kind !== 'B') return undefined;
  const fields = decoder.decode(message.subarray(5, kind === 'B' ? 5 + 200 : undefined)).split('\0');
  if (kind === 'B') return fields[1] ? named.get(fields[1]) : undefined; // portal, statement
  const text = (kind === 'P' ? fields[1] : fields[0]) ?? '';
  const shape = `${text.replace(/\s+/g, ' ').replace(/'[^']*'/g, "'…'").trim().slice(0, 150)}`;
  if (kind === 'P' && fields[0]) named.set(fields[0], shape);
  return shape;
}

/** Whether a message runs a statement (and is counted): a Bind, a Query, or PGlite's own unnamed Parse. */
function executes(message: Uint8Array): boolean {
  const kind = String.fromCharCode(message[0] ?? 0);
  return kind === 'B' || kind === 'Q' || (kind === 'P' && message[5] === 0);
}

const execProtocolStream = pglite.execProtocolStream.bind(pglite);
pglite.execProtocolStream = async (message, options) => {
  const shape = shapeOf(message);
  if (shape) current = shape;
  const start = performance.now();
  try {
    return await execProtocolStream(message, options);
  } finally {
    const ms = performance.now() - start;
    if (counting && current) {
      insideMs += ms;
      const s = shapes.get(current) ?? { count: 0, ms: 0 };
      if (shape && executes(message)) s.count++;
      s.ms += ms;
      shapes.set(current, s);
      const kind = String.fromCharCode(message[0] ?? 0);
      const k = kinds.get(kind) ?? { count: 0, ms: 0 };
      k.count++;
      k.ms += ms;
      kinds.set(kind, k);
    }
  }
};

let handled = 0;
let done: (() => void) | undefined;
const server = await startBenchServer(undefined, {
  database: { pglite },
  handlers: {
    'send-email': async () => {
      if (++handled === jobs) done?.();
      return null;
    },
  },
  defaultSchedules: false,
});
const client = createJobsClient({ url: `${server.url}/trpc`, token: await benchToken({ userId: '1', organizationId: 1, role: 'admin' }) });

const finished = new Promise<void>((resolve) => (done = resolve));
counting = true;
const cpuBefore = process.cpuUsage();
const started = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: producers }, async () => {
    while (next < jobs) {
      const i = next++;
      await client.jobs.enqueue.mutate({ type: 'send-email', payload: payloadOf(i) });
    }
  }),
);
await finished;
await new Promise((resolve) => setTimeout(resolve, 200)); // the last settles commit after their handler returned
const wallMs = performance.now() - started - 200;
const cpu = process.cpuUsage(cpuBefore);
counting = false;

const rows = [...shapes].sort((a, b) => b[1].ms - a[1].ms);
const perJob = (n: number) => (n / jobs).toFixed(2).padStart(6);
process.stdout.write(`${jobs} jobs, ${producers} producers: ${(jobs / (wallMs / 1000)).toFixed(0)} jobs/s; CPU ${((cpu.user + cpu.system) / 1000 / jobs).toFixed(2)} ms per job, of which inside PGlite ${(insideMs / jobs).toFixed(2)} ms\n`);
process.stdout.write(`statements per job ${(rows.reduce((n, [, s]) => n + s.count, 0) / jobs).toFixed(2)}\n\nper job: count, ms inside PGlite, statement\n`);
for (const [shape, s] of rows) process.stdout.write(`${perJob(s.count)} ${perJob(s.ms)}  ${shape}\n`);
process.stdout.write('\nper job, by first wire message of a call: count, ms inside PGlite\n');
for (const [kind, k] of kinds) process.stdout.write(`${perJob(k.count)} ${perJob(k.ms)}  ${kind}\n`);
await server.stop();
await pglite.close();
