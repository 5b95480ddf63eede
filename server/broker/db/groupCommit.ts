interface Waiting<I, R> {
  item: I;
  resolve(result: R): void;
  reject(error: unknown): void;
}

/**
 * Group commit: concurrent submissions share one statement (one write transaction). A submission
 * made while nothing is in flight is flushed at once, alone, so a quiet broker adds no latency;
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
    } = {},
  ) {}

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.pump();
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
      if (batch.length === 1) return void batch[0]?.reject(error);
      for (const w of batch) {
        await this.flush([w.item]).then(([result]) => w.resolve(result as R), w.reject);
      }
    }
  }
}
