import { DueHeap } from './dueHeap.ts';

// Due times are wall-clock (`now`), timers monotonic: a timer armed for far-future work would not
// notice the wall clock stepping forward past it (an NTP step, a resumed VM), and the work would
// wait out the whole timer. Re-checking every second bounds that wait; an idle broker (nothing
// scheduled) still arms nothing.
const MAX_TIMER_MS = 1_000;

/**
 * Keeps one timer armed for the earliest due key, so an idle broker does no work at all.
 * Re-scheduling a key invalidates its earlier entry (lazy deletion by token). Work already due
 * (a message just accepted) runs on `setImmediate`, not `setTimeout(0)`, which waits at least
 * 1 ms: at light load that was a millisecond on every job's path.
 */
export class DueTimer {
  private readonly heap = new DueHeap();
  private readonly tokens = new Map<string, number>();
  private nextToken = 1;
  private order = 0;
  private timer: { cancel(): void } | undefined;
  private armedFor = Infinity;
  private stopped = false;

  constructor(
    private readonly now: () => number,
    private readonly onDue: (key: string) => void,
  ) {}

  schedule(key: string, dueAt: number): void {
    const token = this.nextToken++;
    this.tokens.set(key, token);
    this.heap.push({ key, dueAt, token, order: this.order++ });
    if (dueAt < this.armedFor) this.arm();
  }

  cancel(key: string): void {
    this.tokens.delete(key);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private dropStale(): void {
    for (let top = this.heap.peek(); top && this.tokens.get(top.key) !== top.token; top = this.heap.peek()) this.heap.pop();
  }

  private arm(): void {
    if (this.stopped) return;
    this.dropStale();
    const top = this.heap.peek();
    this.timer?.cancel();
    this.timer = undefined;
    this.armedFor = Infinity;
    if (!top) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, top.dueAt - this.now()));
    this.armedFor = top.dueAt;
    if (delay === 0) {
      const immediate = setImmediate(() => this.fire());
      this.timer = { cancel: () => clearImmediate(immediate) };
    } else {
      const timeout = setTimeout(() => this.fire(), delay);
      this.timer = { cancel: () => clearTimeout(timeout) };
    }
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = this.now();
    for (let top = this.heap.peek(); top && top.dueAt <= now; top = this.heap.peek()) {
      this.heap.pop();
      if (this.tokens.get(top.key) !== top.token) continue;
      this.tokens.delete(top.key);
      this.onDue(top.key);
      if (this.stopped) return;
    }
    this.arm();
  }
}
