import type { Logger } from 'pino';
import type { AttemptOutcome } from '../delivery/deliverMessage.ts';
import type { FlowControl, StoredMessage } from '../messages/messageModel.ts';
import { DueTimer } from './dueTimer.ts';
import { FlowLimiter } from './flowLimiter.ts';
import { QueueLanes } from './queueLanes.ts';

/** What the dispatcher keeps per pending message: enough to order and gate it. */
export interface DispatchEntry {
  id: string;
  seq: number;
  dueAt: number;
  queueName?: string | undefined;
  flow?: FlowControl | undefined;
  /**
   * The message as just stored, for its first attempt, so it is not read back. Kept only for
   * messages due soon and within a byte budget; the others are read when their attempt starts.
   */
  message?: StoredMessage | undefined;
}

export interface DispatcherDeps {
  maxConcurrent: number;
  now(): number;
  logger: Logger;
  deliver(id: string, cached: StoredMessage | undefined): Promise<AttemptOutcome>;
  onScheduleDue(scheduleId: string): void;
}

const DB_ERROR_RETRY_MS = 1000;
/** Only messages due within this long keep their stored copy for the first attempt. */
const CACHE_HORIZON_MS = 5_000;
/** Bodies kept for first attempts, at most; beyond it messages are read back when attempted. */
const CACHE_MAX_BYTES = 32 * 1024 * 1024;

/**
 * Decides when each pending message is attempted: due time (one timer), queue lanes (FIFO +
 * parallelism), flow-control keys (parallelism + rate) and a global bound on concurrent deliveries.
 */
export class Dispatcher {
  readonly flows: FlowLimiter;
  readonly lanes: QueueLanes;
  private readonly timer: DueTimer;
  private readonly entries = new Map<string, DispatchEntry>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly globalWaiting: string[] = [];
  private readonly flowsWithWaiters = new Set<string>();
  private cachedBytes = 0;
  private stopped = false;

  constructor(private readonly deps: DispatcherDeps) {
    this.timer = new DueTimer(deps.now, (key) => this.onDue(key));
    this.lanes = new QueueLanes((id) => {
      const entry = this.entries.get(id);
      if (entry) this.timer.schedule(`m:${id}`, entry.dueAt);
    });
    this.flows = new FlowLimiter(deps.now, (key) => this.drainFlow(key));
  }

  get pendingCount(): number {
    return this.entries.size;
  }

  get activeCount(): number {
    return this.inFlight.size;
  }

  /** Whether an attempt of this message is under way (the API shows it ACTIVE). */
  isInFlight(id: string): boolean {
    return this.inFlight.has(id);
  }

  add(entry: DispatchEntry): void {
    if (this.stopped) return;
    const previous = this.entries.get(entry.id);
    const isNew = previous === undefined;
    if (previous) this.uncache(previous);
    const size = entry.message?.body.length ?? 0;
    if (entry.message && (entry.dueAt > this.deps.now() + CACHE_HORIZON_MS || this.cachedBytes + size > CACHE_MAX_BYTES)) entry = { ...entry, message: undefined };
    this.cachedBytes += entry.message ? size : 0;
    this.entries.set(entry.id, entry);
    if (entry.flow) this.flows.configure(entry.flow, isNew);
    if (entry.queueName) this.lanes.add(entry.queueName, entry.id, entry.seq);
    else this.timer.schedule(`m:${entry.id}`, entry.dueAt);
  }

  /** Forgets a cancelled message; an attempt already in flight finishes but is not retried. */
  remove(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.uncache(entry);
    this.entries.delete(id);
    this.timer.cancel(`m:${id}`);
    if (entry.flow) this.flows.untrack(entry.flow.key, id);
    if (entry.queueName && !this.inFlight.has(id)) this.lanes.release(entry.queueName, id);
  }

  scheduleAt(scheduleId: string, dueAt: number): void {
    if (!this.stopped) this.timer.schedule(`s:${scheduleId}`, dueAt);
  }

  unschedule(scheduleId: string): void {
    this.timer.cancel(`s:${scheduleId}`);
  }

  drainFlow(key: string): void {
    const state = this.flows.state(key);
    while (state.waiting.length > 0 && !this.stopped && this.inFlight.size < this.deps.maxConcurrent && this.flows.canAcquire(key)) {
      this.tryStart(state.waiting.shift() as string); // length checked by the loop
    }
    if (state.waiting.length === 0) this.flowsWithWaiters.delete(key);
  }

  /** Stops timers and forgets in-flight attempts; resolves when their promises settle. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer.stop();
    this.flows.stop();
    await Promise.allSettled([...this.inFlight.values()]);
  }

  private onDue(key: string): void {
    const id = key.slice(2);
    if (key.startsWith('s:')) this.deps.onScheduleDue(id);
    else this.tryStart(id);
  }

  private tryStart(id: string): void {
    const entry = this.entries.get(id);
    if (!entry || this.inFlight.has(id) || this.stopped) return;
    if (entry.queueName !== undefined && this.lanes.parkIfPaused(entry.queueName, id)) return;
    const flowKey = entry.flow?.key;
    if (flowKey !== undefined && !this.flows.canAcquire(flowKey)) {
      this.flows.state(flowKey).waiting.push(id);
      this.flowsWithWaiters.add(flowKey);
      return;
    }
    if (this.inFlight.size >= this.deps.maxConcurrent) {
      this.globalWaiting.push(id);
      return;
    }
    if (flowKey !== undefined) this.flows.acquire(flowKey);
    const cached = entry.message;
    this.uncache(entry);
    const run = this.deps
      .deliver(id, cached)
      .catch((error: unknown): AttemptOutcome | 'error' => {
        this.deps.logger.error({ err: error, messageId: id }, '[broker] Delivery bookkeeping failed; will retry');
        return 'error';
      })
      .then((outcome) => this.finish(entry, outcome))
      .catch((error: unknown) => this.deps.logger.error({ err: error, messageId: id }, '[broker] Dispatch bookkeeping failed'));
    this.inFlight.set(id, run);
  }

  private finish(entry: DispatchEntry, outcome: AttemptOutcome | 'error'): void {
    this.inFlight.delete(entry.id);
    if (entry.flow) this.flows.release(entry.flow.key);
    if (this.stopped) return;
    const pending = this.entries.has(entry.id);
    const kind = outcome === 'error' ? 'error' : outcome.kind;
    if (kind === 'retry' || kind === 'error') {
      if (pending) {
        entry.dueAt = outcome !== 'error' && outcome.kind === 'retry' ? outcome.dueAt : this.deps.now() + DB_ERROR_RETRY_MS;
        this.timer.schedule(`m:${entry.id}`, entry.dueAt);
      } else if (entry.queueName) {
        this.lanes.release(entry.queueName, entry.id);
      }
    } else if (kind !== 'abandoned') {
      this.entries.delete(entry.id);
      if (entry.flow) this.flows.untrack(entry.flow.key, entry.id);
      if (entry.queueName) this.lanes.release(entry.queueName, entry.id);
    }
    if (entry.flow) this.drainFlow(entry.flow.key);
    this.drainGlobal();
  }

  /** Drops the stored copy: it serves one first attempt, and retries re-read the row. */
  private uncache(entry: DispatchEntry): void {
    if (!entry.message) return;
    this.cachedBytes -= entry.message.body.length;
    entry.message = undefined;
  }

  private drainGlobal(): void {
    while (this.globalWaiting.length > 0 && this.inFlight.size < this.deps.maxConcurrent && !this.stopped) {
      this.tryStart(this.globalWaiting.shift() as string); // length checked by the loop
    }
    if (this.inFlight.size >= this.deps.maxConcurrent) return;
    for (const key of [...this.flowsWithWaiters]) this.drainFlow(key);
  }
}
