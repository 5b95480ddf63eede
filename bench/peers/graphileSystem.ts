// graphile-worker under the peer benchmark, in this process, through its documented API:
// `makeWorkerUtils().addJob` / `addJobs` to enqueue, `run()` with a no-op task to work.
import { Logger, makeWorkerUtils, run, type Runner } from 'graphile-worker';
import pg from 'pg'; // graphile-worker's own driver
import { now } from './childProtocol.ts';
import { processCpuUs } from './machine.ts';
import { ENQUEUE_DELAY_MS, payloadOf, StartSignals, type System } from './system.ts';

const TASK = 'noop';
const silent = new Logger(() => () => {});

export async function startGraphile(options: { url: string; concurrency: number; xmax: () => Promise<bigint> }): Promise<System> {
  // Our own pools (graphile-worker's `pgPool` option), so stop() can wait for their connections to
  // close: a pool it makes itself is ended without waiting, and dropping the database then kills them.
  // One for the producers' WorkerUtils and one for the runner, as each would make by default.
  const pools: pg.Pool[] = [];
  const newPool = () => {
    const pool = new pg.Pool({ connectionString: options.url, max: 10 }); // graphile-worker's default maxPoolSize
    pool.on('error', () => {});
    pool.on('connect', (client) => client.on('error', () => {}));
    pools.push(pool);
    return pool;
  };
  const utils = await makeWorkerUtils({ pgPool: newPool(), logger: silent });
  await utils.migrate();
  const starts = new StartSignals();
  const completions = new StartSignals();
  let reporting = false;
  let completed = 0;
  let completedWaiter: { count: number; resolve: (at: number) => void } | undefined;
  let runner: Runner | undefined;
  const runAt = () => new Date(Date.now() + ENQUEUE_DELAY_MS);

  return {
    name: 'graphile',
    batchMethod: 'addJobs (one statement per batch)',
    enqueue: async (i) => void (await utils.addJob(TASK, payloadOf(i), { runAt: runAt() })),
    async enqueueBatch(from, count) {
      const at = runAt();
      await utils.addJobs(Array.from({ length: count }, (_, k) => ({ identifier: TASK, payload: payloadOf(from + k), runAt: at })));
    },
    async startWorker() {
      if (runner) return;
      runner = await run({
        pgPool: newPool(),
        concurrency: options.concurrency,
        noHandleSignals: true,
        logger: silent,
        taskList: {
          [TASK]: async (_payload, helpers) => {
            if (reporting) starts.signal(helpers.job.id, now());
          },
        },
      });
      runner.events.on('job:complete', ({ job, error }) => {
        if (error) return;
        completed++;
        if (reporting) completions.signal(job.id, now());
        if (completedWaiter && completed >= completedWaiter.count) {
          completedWaiter.resolve(now());
          completedWaiter = undefined;
        }
      });
    },
    produce: async (i) => (await utils.addJob(TASK, payloadOf(i))).id,
    awaitCompleted: (count) => (completed >= count ? Promise.resolve(now()) : new Promise((resolve) => (completedWaiter = { count, resolve }))),
    reportStarts: async (on) => void (reporting = on),
    started: (id) => starts.wait(id),
    completedAt: (id) => completions.wait(id),
    appCpuUs: async () => processCpuUs(),
    xmax: options.xmax,
    async stop() {
      await runner?.stop();
      await utils.release();
      for (const pool of pools) await pool.end();
    },
  };
}
