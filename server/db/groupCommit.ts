interface Waiting<I, R> {
  item: I;
  resolve(result: R): void;
  reject(error: unknown): void;
}

/**
 * The group commit of `key` (a database) in `groups`, made on first use: one per database, so all
 * of a process's callers share it.
 */
export function groupOf<K extends object, I, R>(groups: WeakMap<K, GroupCommit<I, R>>, key: K, flush: (items: I[]) => Promise<R[]>, limits: ConstructorParameters<typeof GroupCommit<I, R>>[1]): GroupCommit<I, R> {
  let group = groups.get(key);
  if (group === undefined) groups.set(key, (group = new GroupCommit(flush, limits)));
  return group;
}

/** Submissions closer together than this are load, and wait for the end of the turn (`sameTurn`). */
const SAME_TURN_WINDOW_MS = 10;

/**
 * Group commit: concurrent submissions share one statement (one write transaction). A submission
 * made while nothing is in flight is flushed at once, alone, so a quiet system adds no latency;
 * those made while a flush is in flight wait for it and go together in the next. Each promise
 * settles only after its flush committed. A failed flush of several is retried one by one, so a
 * bad item fails alone and never takes its neighbours with it.
 */
export class GroupCommit<I, R> {
  private readonly waiting: Waiting<I, R>[] = [];
  private inFlight = 0;

  constructor(
    /** Stores `items` in one statement; answers one result per item, in order. */
    private readonly flush: (items: I[]) => Promise<R[]>,
    private readonly limits: {
      /** Most submissions per flush. Default 500. */
      maxItems?: number;
      /** Most total weight per flush (a lone heavier submission still goes, alone). Default unbounded. */
      maxWeight?: number;
      /** A submission's weight, e.g. the bytes it will put in the statement. Default 1. */
      weigh?: (item: I) => number;
      /**
       * Whether a failed flush of several is retried one by one (default: always). Say no for an
       * error that would fail each of them too (the database is away): each caller then gets it.
       */
      isolate?: (error: unknown) => boolean;
      /**
       * Under load (a submission within `SAME_TURN_WINDOW_MS` of the previous one), flush at the
       * end of the current turn of the event loop (`setImmediate`) rather than at once:
       * submissions made by the requests read in the same turn go together. For a database that
       * runs statements on this thread (PGlite), where a flush started at once has finished before
       * the next request is even read, so nothing would ever be grouped.
       */
      sameTurn?: boolean;
    } = {},
  ) {}

  private scheduled = false;
  private lastSubmitAt = -Infinity;

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      // Under load only: a submission after a quiet spell goes at once (waiting for the end of the
      // turn put it behind whatever else the turn ran: PGlite's enqueue → completed p50 14.5 ms → 20+).
      const at = performance.now();
      const busy = at - this.lastSubmitAt < SAME_TURN_WINDOW_MS;
      this.lastSubmitAt = at;
      if (!this.limits.sameTurn || !busy) return this.pump();
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.pump();
      });
    });
  }

  private pump(): void {
    if (this.inFlight > 0 || this.waiting.length === 0) return;
    const { maxItems = 500, maxWeight = Infinity, weigh = () => 1 } = this.limits;
    let count = 0;
    let weight = 0;
    for (const w of this.waiting) {
      weight += weigh(w.item);
      if (count > 0 && (count >= maxItems || weight > maxWeight)) break;
      count++;
    }
    const batch = this.waiting.splice(0, count);
    this.inFlight++;
    void this.run(batch).finally(() => {
      this.inFlight--;
      this.pump();
    });
  }

  private async run(batch: Waiting<I, R>[]): Promise<void> {
    try {
      const results = await this.flush(batch.map((w) => w.item));
      batch.forEach((w, i) => w.resolve(results[i] as R)); // flush answers one result per item
    } catch (error) {
      if (batch.length === 1 || this.limits.isolate?.(error) === false) return void batch.forEach((w) => w.reject(error));
      for (const w of batch) {
        await this.flush([w.item]).then(([result]) => w.resolve(result as R), w.reject);
      }
    }
  }
}
