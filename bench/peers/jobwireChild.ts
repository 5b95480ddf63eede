// The jobwire side of the peer benchmark, run in its own process (bench/peers/jobwireSystem.ts forks
// it): the whole server with the embedded broker, `send-email`'s handler replaced by a no-op through
// `startServer({ handlers })` (the documented way to stand in for a handler), and the tRPC floor.
import { sql } from 'drizzle-orm';
import { queryRows } from '../../server/db/database.ts';
import { jobEvents, jobExecutions } from '../../server/db/schema.ts';
import { publishBatcher } from '../../server/jobs/publishBatcher.ts';
import { JOB_EVENTS_CHANNEL } from '../../server/jobs/recordEvent.ts';
import { parseRateLimit } from '../../server/security/rateLimiter.ts';
import { BENCH_SECRET, startBenchServer } from '../benchServer.ts';
import { now, type ChildConfig, type ChildMessage, type ChildRequest } from './childProtocol.ts';
import { startFloorServer } from './floorServer.ts';

// `npm start` runs compiled JavaScript with Node's source maps off; tsx, which runs this child,
// turns them on, and then every error stack materialised (postgres.js keeps one per query) is
// mapped back to TypeScript. Measure the server as it runs in production (BENCH_SOURCE_MAPS=1: as tsx has it).
if (!process.env['BENCH_SOURCE_MAPS']) process.setSourceMapsEnabled(false);

const config = JSON.parse(process.argv[2] ?? '') as ChildConfig;
const send = (message: ChildMessage) => process.send?.(message);

let handled = 0;
let polls = 0; // statements the benchmark sends itself, subtracted from the counting pass
let reportStarts = false;
let handledWaiters: Array<{ count: number; resolve: () => void }> = [];
/** When each job's handler started (while starts are reported). */
const handlerStarts = new Map<string, number>();

const server = await startBenchServer(config.database ?? undefined, {
  handlers: {
    'send-email': async (_payload, job) => {
      handled++;
      if (reportStarts) {
        // Told after the handler returned: the message's write would otherwise delay the settle
        // it measures (graphile-worker's starts are seen in its own process, for free).
        const at = now();
        handlerStarts.set(job.jobId, at);
        setImmediate(() => send({ type: 'started', jobId: job.jobId, at }));
      }
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

// Every timeline event sends a NOTIFY when it commits ({ eventId, jobId, organizationId }): the
// latency workload is told of a job's completion by it, as graphile-worker's is by `job:complete`,
// instead of finding it by polling (which added up to a polling interval and a query).
const lastEvent = new Map<string, { eventId: number; at: number }>();
const eventWaiters = new Map<string, () => void>();
await server.database.listen(JOB_EVENTS_CHANNEL, (payload) => {
  const at = now();
  const { eventId, jobId } = JSON.parse(payload) as { eventId: number; jobId: string };
  lastEvent.set(jobId, { eventId, at });
  eventWaiters.get(jobId)?.();
});

/**
 * When `jobId` became `completed`: when the NOTIFY of its last event (the settle's) arrived, once
 * the row reads `completed`; if that NOTIFY has not arrived yet, when the row was read. The row is
 * read once an event newer than the handler's start was heard (or after 50 ms): a read sent while
 * the job's settle is in flight would compete with the path it measures.
 */
async function jobCompleted(jobId: string): Promise<number> {
  let since = handlerStarts.get(jobId) ?? -Infinity;
  handlerStarts.delete(jobId);
  for (;;) {
    if ((lastEvent.get(jobId)?.at ?? -Infinity) <= since) {
      await new Promise<void>((resolve) => {
        eventWaiters.set(jobId, resolve);
        setTimeout(resolve, 50); // a lost notification costs 50 ms, not the run
      });
    }
    polls++;
    const [row] = await queryRows<{ status: string; lastEventId: number | null }>(
      db,
      sql`SELECT ${jobExecutions.status} AS status, (SELECT max(${jobEvents.id}) FROM ${jobEvents} WHERE ${jobEvents.jobId} = ${jobId}) AS "lastEventId" FROM ${jobExecutions} WHERE ${jobExecutions.id} = ${jobId}`,
    );
    if (row?.status === 'completed') {
      const read = now();
      const notified = lastEvent.get(jobId);
      eventWaiters.delete(jobId);
      lastEvent.delete(jobId);
      return notified && row.lastEventId !== null && notified.eventId >= Number(row.lastEventId) ? notified.at : read;
    }
    since = lastEvent.get(jobId)?.at ?? since;
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
    case 'published':
      await publishBatcher(server.jobs).flush();
      return now();
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
