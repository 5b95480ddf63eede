// jobwire under the peer benchmark: the server runs in a child process (jobwireChild.ts); this side
// holds the callers: the typed client as shipped (httpBatchLink), the same client with httpLink
// (one call per request) and the floor's client.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';
import superjson from 'superjson';
import { createJobsClient } from '../../client/createJobsClient.ts';
import type { AppRouter } from '../../server/trpc/root.ts';
import { benchToken } from '../benchServer.ts';
import type { ChildConfig, ChildMessage, ChildRequest } from './childProtocol.ts';
import type { FloorRouter } from './floorServer.ts';
import { processCpuUs } from './machine.ts';
import { ENQUEUE_DELAY_MS, payloadOf, StartSignals, type System } from './system.ts';

type Command = ChildRequest extends infer R ? (R extends ChildRequest ? Omit<R, 'id'> : never) : never;
/** `jobs.enqueueMany`, called untyped: the harness runs whether or not the router has it yet. */
type EnqueueMany = { mutate(input: { jobs: ReturnType<typeof delayedJob>[] }): Promise<unknown> };

const delayedJob = (i: number) => ({ type: 'send-email' as const, payload: payloadOf(i), options: { delay: ENQUEUE_DELAY_MS } });
const STARTUP_TIMEOUT_MS = 180_000;

export async function startJobwire(options: { config: ChildConfig; xmax?: () => Promise<bigint> }): Promise<System> {
  const child = fork(fileURLToPath(new URL('./jobwireChild.ts', import.meta.url)), [JSON.stringify(options.config)], {
    // BENCH_CPU_PROF_DIR=dir: the server child writes a V8 CPU profile there when it exits (node --cpu-prof).
    execArgv: ['--import', 'tsx', ...(process.env['BENCH_CPU_PROF_DIR'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_CPU_PROF_DIR']}`] : [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const replies = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  const starts = new StartSignals();
  let nextId = 0;
  let exited: Error | undefined;
  const ready = new Promise<{ url: string; floorUrl: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the jobwire server did not start in time')), STARTUP_TIMEOUT_MS);
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(message);
      } else if (message.type === 'started') {
        starts.signal(message.jobId, message.at);
      } else {
        const reply = replies.get(message.id);
        replies.delete(message.id);
        if (message.error !== undefined) reply?.reject(new Error(message.error));
        else reply?.resolve(message.result);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      exited = new Error(`the jobwire server exited (code ${code})`);
      reject(exited);
      for (const reply of replies.values()) reply.reject(exited);
      replies.clear();
    });
  });
  const request = <T>(command: Command): Promise<T> => {
    if (exited) return Promise.reject(exited);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      replies.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ ...command, id });
    });
  };

  const { url, floorUrl } = await ready;
  const token = await benchToken({ userId: '1', organizationId: 1, role: 'admin' });
  const link = (at: string) => httpLink({ url: `${at}/trpc`, transformer: superjson, headers: { authorization: `Bearer ${token}` } });
  const typed = createJobsClient({ url: `${url}/trpc`, token });
  const unbatched = createTRPCClient<AppRouter>({ links: [link(url)] });
  const floor = createTRPCClient<FloorRouter>({ links: [link(floorUrl)] });
  const enqueueMany = (unbatched.jobs as unknown as Record<string, EnqueueMany>)['enqueueMany']!; // tRPC's proxy has every path
  let hasEnqueueMany: boolean | undefined; // found out on the first batch

  const system: System = {
    name: options.config.database ? 'jobwire' : 'jobwire-pglite',
    get batchMethod() {
      if (hasEnqueueMany === undefined) return 'jobs.enqueueMany if the router has it, else 50 calls in one httpBatchLink request';
      return hasEnqueueMany ? 'jobs.enqueueMany({ jobs }), one call per batch' : 'no jobs.enqueueMany yet: 50 jobs.enqueue calls in one httpBatchLink request';
    },
    enqueue: async (i) => void (await unbatched.jobs.enqueue.mutate(delayedJob(i))),
    enqueueTyped: async (i) => void (await typed.jobs.enqueue.mutate(delayedJob(i))),
    async enqueueBatch(from, count) {
      const jobs = Array.from({ length: count }, (_, k) => delayedJob(from + k));
      if (hasEnqueueMany !== false) {
        try {
          const answer = (await enqueueMany.mutate({ jobs })) as { results?: Array<{ ok?: boolean; error?: { message?: string } }> };
          hasEnqueueMany = true;
          // Items are refused one by one in the results: a refused one must not count as enqueued.
          const refused = answer.results?.find((item) => item.ok === false);
          if (refused) throw new Error(`jobs.enqueueMany refused an item: ${refused.error?.message ?? 'no reason given'}`);
          return;
        } catch (error) {
          if (hasEnqueueMany !== undefined || !(error instanceof TRPCClientError) || (error.data as { code?: string } | undefined)?.code !== 'NOT_FOUND') throw error;
          hasEnqueueMany = false;
        }
      }
      await Promise.all(jobs.map((job) => typed.jobs.enqueue.mutate(job))); // same tick: one batch request
    },
    floor: async (i) => void (await floor.bench.floor.mutate(delayedJob(i))),
    startWorker: async () => {},
    produce: async (i) => (await typed.jobs.enqueue.mutate({ type: 'send-email', payload: payloadOf(i) })).jobId,
    awaitCompleted: (count) => request<number>({ cmd: 'completed', count }),
    reportStarts: (on) => request<void>({ cmd: 'reportStarts', on }),
    started: (id) => starts.wait(id),
    completedAt: (id) => request<number>({ cmd: 'jobCompleted', jobId: id }),
    published: () => request<number>({ cmd: 'published' }),
    appCpuUs: async () => processCpuUs() + (await request<number>({ cmd: 'cpu' })),
    serverCpuUs: () => request<number>({ cmd: 'cpu' }),
    benchStatements: () => request<number>({ cmd: 'polls' }),
    xmax: options.xmax ?? (async () => BigInt(await request<string>({ cmd: 'xmax' }))),
    async stop() {
      if (!exited) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        await request({ cmd: 'stop' }).catch(() => undefined);
        child.disconnect();
        await gone;
      }
    },
  };
  return system;
}
