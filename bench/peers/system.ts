// What the peer benchmark needs from each system under test; one implementation per system.

export type SystemName = 'jobwire' | 'jobwire-pglite' | 'graphile' | 'pgboss';

/** The job every system enqueues: `send-email`'s payload (jobwire's handler for it is a no-op here). */
export const payloadOf = (i: number) => ({ to: `b${i}@example.com`, template: 'welcome' as const, data: { recipientName: 'B' } });

/** Enqueue-only workloads delay their jobs by an hour so nothing runs while they are measured. */
export const ENQUEUE_DELAY_MS = 3_600_000;

export interface System {
  readonly name: SystemName;
  /** How this system enqueues a batch (printed in the method). */
  readonly batchMethod: string;
  /** One delayed job, one call (request or statement) per job. */
  enqueue(i: number): Promise<void>;
  /** Delayed jobs `from … from + count - 1` in one batch. */
  enqueueBatch(from: number, count: number): Promise<void>;
  /** jobwire only: one delayed job through the shipped typed client (its httpBatchLink batching). */
  enqueueTyped?(i: number): Promise<void>;
  /** jobwire only: a call of the tRPC floor (same stack, no database). */
  floor?(i: number): Promise<void>;
  /**
   * jobwire: the time (ms, `now()`) at which every job enqueued so far was also published to the
   * broker. `jobs.enqueue` answers once the row is committed and publishes just after; an
   * enqueue workload ends when that work is done too, so the rate counts it. Peers: absent.
   */
  published?(): Promise<number>;
  /** Starts the worker side (peers); jobwire's server delivers all along. */
  startWorker(): Promise<void>;
  /** One job to run now, the way a producer enqueues it; resolves to its id. */
  produce(i: number): Promise<string>;
  /** The time (ms, `now()`) at which `count` produced jobs had completed in all. */
  awaitCompleted(count: number): Promise<number>;
  /** Reports handler starts one by one (light-load latency), or not. */
  reportStarts(on: boolean): Promise<void>;
  /** The time the handler of job `id` started. */
  started(id: string): Promise<number>;
  /** The time job `id` was recorded completed, where the system says so; undefined where it does not. */
  completedAt?(id: string): Promise<number>;
  /** Statements the benchmark itself sent on the system's connections (completion polls): not the system's. */
  benchStatements?(): Promise<number>;
  /** CPU of every Node process of the system (this one included), in microseconds. */
  appCpuUs(): Promise<number>;
  /** jobwire: CPU of the server process alone, in microseconds. */
  serverCpuUs?(): Promise<number>;
  /** `pg_snapshot_xmax(pg_current_snapshot())` of the system's database: the next transaction id. */
  xmax(): Promise<bigint>;
  stop(): Promise<void>;
}

/** Handler starts reported as they happen, awaited by job id (the start may come before the wait). */
export class StartSignals {
  private readonly seen = new Map<string, number>();
  private readonly waiting = new Map<string, (at: number) => void>();

  signal(id: string, at: number): void {
    const waiter = this.waiting.get(id);
    if (waiter) {
      this.waiting.delete(id);
      waiter(at);
    } else {
      this.seen.set(id, at);
    }
  }

  wait(id: string): Promise<number> {
    const at = this.seen.get(id);
    if (at !== undefined) {
      this.seen.delete(id);
      return Promise.resolve(at);
    }
    return new Promise((resolve) => this.waiting.set(id, resolve));
  }
}
