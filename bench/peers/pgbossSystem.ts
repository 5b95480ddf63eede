// pg-boss under the peer benchmark, in this process, through its documented API: `send` and
// `insert` to enqueue, `work` with a no-op handler. pg-boss workers poll (no notification on send):
// `pollingIntervalSeconds` and `batchSize` set how fast they drain, and are printed with the results.
import PgBoss from 'pg-boss';
import postgres from 'postgres';
import { now } from './childProtocol.ts';
import { processCpuUs } from './machine.ts';
import { ENQUEUE_DELAY_MS, payloadOf, StartSignals, type System } from './system.ts';

const QUEUE = 'noop';

export async function startPgBoss(options: { url: string; batchSize: number; pollingIntervalSeconds: number; xmax: () => Promise<bigint> }): Promise<System> {
  const boss = new PgBoss({ connectionString: options.url });
  boss.on('error', (error: unknown) => process.stderr.write(`pg-boss: ${String(error)}\n`));
  await boss.start();
  await boss.createQueue(QUEUE);
  // pg-boss completes a job after its handler, without telling anyone: completion is read from its table.
  const reader = postgres(options.url, { max: 1, onnotice: () => {} });
  const starts = new StartSignals();
  let reporting = false;
  let working = false;
  let handled = 0;
  let polls = 0;
  let handledWaiter: { count: number; resolve: () => void } | undefined;
  const startAfter = () => new Date(Date.now() + ENQUEUE_DELAY_MS);

  return {
    name: 'pgboss',
    batchMethod: 'insert (one statement per batch)',
    enqueue: async (i) => void (await boss.send(QUEUE, payloadOf(i), { startAfter: startAfter() })),
    async enqueueBatch(from, count) {
      const at = startAfter();
      await boss.insert(Array.from({ length: count }, (_, k) => ({ name: QUEUE, data: payloadOf(from + k), startAfter: at })));
    },
    async startWorker() {
      if (working) return;
      working = true;
      await boss.work(QUEUE, { batchSize: options.batchSize, pollingIntervalSeconds: options.pollingIntervalSeconds }, async (jobs) => {
        if (reporting) for (const job of jobs) starts.signal(job.id, now());
        handled += jobs.length;
        if (handledWaiter && handled >= handledWaiter.count) handledWaiter.resolve();
      });
    },
    async produce(i) {
      const id = await boss.send(QUEUE, payloadOf(i));
      if (!id) throw new Error('pg-boss refused a job');
      return id;
    },
    async awaitCompleted(count) {
      // Polled only once the handlers have seen them all, so the polling does not load the run.
      if (handled < count) await new Promise<void>((resolve) => (handledWaiter = { count, resolve }));
      for (;;) {
        polls++;
        const [row] = await reader<{ n: number }[]>`SELECT count(*)::int AS n FROM pgboss.job WHERE name = ${QUEUE} AND state = 'completed'`;
        if ((row?.n ?? 0) >= count) return now();
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    reportStarts: async (on) => void (reporting = on),
    started: (id) => starts.wait(id),
    appCpuUs: async () => processCpuUs(),
    benchStatements: async () => polls,
    xmax: options.xmax,
    async stop() {
      await boss.stop({ graceful: false, wait: true });
      await reader.end({ timeout: 5 });
    },
  };
}
