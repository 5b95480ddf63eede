// Messages between the peer benchmark and the jobwire server it runs in a child process (so the
// server's CPU is measured apart from the callers').

export interface ChildConfig {
  /** A scratch database URL, or null for PGlite in memory. */
  database: string | null;
  /** `ENQUEUE_RATE_LIMIT` syntax: `1000000/1s`, `off`. */
  rateLimit: string;
}

export type ChildRequest =
  | { id: number; cmd: 'cpu' }
  | { id: number; cmd: 'xmax' }
  | { id: number; cmd: 'polls' }
  | { id: number; cmd: 'reportStarts'; on: boolean }
  | { id: number; cmd: 'completed'; count: number }
  | { id: number; cmd: 'jobCompleted'; jobId: string }
  | { id: number; cmd: 'published' }
  | { id: number; cmd: 'stop' };

export type ChildMessage =
  | { type: 'ready'; url: string; floorUrl: string }
  | { type: 'started'; jobId: string; at: number }
  | { type: 'reply'; id: number; result?: unknown; error?: string };

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
export const now = () => performance.timeOrigin + performance.now();
