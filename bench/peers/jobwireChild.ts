// The jobwire side of the peer benchmark, run in its own process (bench/peers/jobwireSystem.ts forks
// it): the whole server with the embedded broker, `send-email`'s handler replaced by a no-op through
// `startServer({ handlers })` (the documented way to stand in for a handler), and the tRPC floor.
import { sql } from 'drizzle-orm';
import { queryRows } from '../../server/db/database.ts';
import { jobExecutions } from '../../server/db/schema.ts';
import { parseRateLimit } from '../../server/security/rateLimiter.ts';
import { BENCH_SECRET, startBenchServer } from '../benchServer.ts';
import { now, type ChildConfig, type ChildMessage, type ChildRequest } from './childProtocol.ts';
import { startFloorServer } from './floorServer.ts';

const config = JSON.parse(process.argv[2] ?? '') as ChildConfig;
const send = (message: ChildMessage) => process.send?.(message);

let handled = 0;
let polls = 0; // statements the benchmark sends itself, subtracted from the counting pass
let reportStarts = false;
let handledWaiters: Array<{ count: number; resolve: () => void }> = [];

const server = await startBenchServer(config.database ?? undefined, {
  handlers: {
    'send-email': async (_payload, job) => {
      handled++;
      if (reportStarts) send({ type: 'started', jobId: job.jobId, at: now() });
      handledWaiters = handledWaiters.filter((w) => (w.count <= handled ? (w.resolve(), false) : true));
      return null;
    },
  },
  defaultSchedules: false,
  security: { enqueueRateLimit: parseRateLimit(config.rateLimit) },
});
const floor = await startFloorServer(server.jobs, BENCH_SECRET);
const { db } = server.database;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** When `count` jobs have run their handler and are `completed` in the database (polled only once they have run). */
async function completed(count: number): Promise<number> {
  if (handled < count) await new Promise<void>((resolve) => handledWaiters.push({ count, resolve }));
  for (;;) {
    polls++;
    const [row] = await queryRows<{ n: number }>(db, sql`SELECT count(*)::int AS n FROM ${jobExecutions} WHERE ${jobExecutions.status} = 'completed'`);
    if ((row?.n ?? 0) >= count) return now();
    await sleep(2);
  }
}

async function jobCompleted(jobId: string): Promise<number> {
  for (;;) {
    polls++;
    const [row] = await queryRows<{ status: string }>(db, sql`SELECT ${jobExecutions.status} AS status FROM ${jobExecutions} WHERE ${jobExecutions.id} = ${jobId}`);
    if (row?.status === 'completed') return now();
    await sleep(1);
  }
}

async function answer(request: ChildRequest): Promise<unknown> {
  switch (request.cmd) {
    case 'cpu': {
      const { user, system } = process.cpuUsage();
      return user + system;
    }
    case 'xmax': {
      const [row] = await queryRows<{ x: string }>(db, sql`SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS x`);
      return row?.x;
    }
    case 'polls':
      return polls;
    case 'reportStarts':
      reportStarts = request.on;
      return null;
    case 'completed':
      return completed(request.count);
    case 'jobCompleted':
      return jobCompleted(request.jobId);
    case 'stop':
      await floor.close();
      await server.stop();
      return null; // the benchmark then disconnects, which ends this process

  }
}

process.on('message', (request: ChildRequest) => {
  answer(request).then(
    (result) => send({ type: 'reply', id: request.id, result }),
    (error: unknown) => send({ type: 'reply', id: request.id, error: String(error) }),
  );
});
process.on('disconnect', () => process.exit(0)); // stopped, or the benchmark died: do not linger
send({ type: 'ready', url: server.url, floorUrl: floor.url });
