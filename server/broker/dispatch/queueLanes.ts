/**
 * FIFO queues: at most `parallelism` messages of a queue are "in service" (waiting for their due
 * time, in flight, or waiting to retry); the rest wait in enqueue order. A message leaves service
 * only when it is delivered, finally fails or is cancelled.
 */
interface Lane {
  parallelism: number;
  paused: boolean;
  pending: { id: string; seq: number }[];
  inService: Set<string>;
  /** In-service messages that came due while the queue was paused; re-admitted on resume. */
  parked: Set<string>;
}

export class QueueLanes {
  private readonly lanes = new Map<string, Lane>();

  constructor(private readonly onAdmit: (id: string) => void) {}

  configure(name: string, config: { parallelism: number; paused: boolean }): void {
    const lane = this.lane(name);
    lane.parallelism = Math.max(1, config.parallelism);
    lane.paused = config.paused;
    if (!lane.paused) {
      const parked = [...lane.parked];
      lane.parked.clear();
      for (const id of parked) this.onAdmit(id);
    }
    this.promote(lane);
  }

  /**
   * Pausing only stops admissions, so a message already in service checks here before it starts;
   * a paused queue keeps it parked until `configure` resumes the queue.
   */
  parkIfPaused(name: string, id: string): boolean {
    const lane = this.lanes.get(name);
    if (!lane?.paused || !lane.inService.has(id)) return false;
    lane.parked.add(id);
    return true;
  }

  /** Adds a message; it is admitted at once if its lane has room. */
  add(name: string, id: string, seq: number): void {
    const lane = this.lane(name);
    if (lane.inService.has(id)) return;
    let index = lane.pending.length;
    while (index > 0 && (lane.pending[index - 1]?.seq ?? 0) > seq) index--;
    lane.pending.splice(index, 0, { id, seq });
    this.promote(lane);
  }

  /** A message left the queue for good (delivered, failed, cancelled). */
  release(name: string, id: string): void {
    const lane = this.lanes.get(name);
    if (!lane) return;
    lane.parked.delete(id);
    if (!lane.inService.delete(id)) {
      const index = lane.pending.findIndex((p) => p.id === id);
      if (index >= 0) lane.pending.splice(index, 1);
      return;
    }
    this.promote(lane);
  }

  lag(name: string): number {
    const lane = this.lanes.get(name);
    return lane ? lane.pending.length + lane.inService.size : 0;
  }

  remove(name: string): void {
    this.lanes.delete(name);
  }

  private lane(name: string): Lane {
    let lane = this.lanes.get(name);
    if (!lane) {
      lane = { parallelism: 1, paused: false, pending: [], inService: new Set(), parked: new Set() };
      this.lanes.set(name, lane);
    }
    return lane;
  }

  private promote(lane: Lane): void {
    while (!lane.paused && lane.inService.size < lane.parallelism && lane.pending.length > 0) {
      const next = lane.pending.shift() as { id: string }; // length checked above
      lane.inService.add(next.id);
      this.onAdmit(next.id);
    }
  }
}
