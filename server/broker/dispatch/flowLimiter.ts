import type { FlowControl } from '../messages/messageModel.ts';

interface FlowLimits {
  parallelism?: number | undefined;
  rate?: number | undefined;
  periodMs?: number | undefined;
}

/** Live state of one flow-control key. The effective limits are a pin, else the latest message's. */
export interface FlowState {
  key: string;
  parallelism?: number | undefined;
  rate?: number | undefined;
  periodMs: number;
  /** Limits carried by the latest message, kept apart so unpinning restores them. */
  fromMessage: FlowLimits;
  pinned: FlowLimits;
  active: number;
  /** Dispatcher entries using this key (due later, waiting, in flight or retrying). */
  pending: number;
  windowStart: number;
  windowCount: number;
  paused: boolean;
  waiting: string[];
  wakeTimer?: NodeJS.Timeout | undefined;
  lastUsedAt: number;
}

// Idle keys stay readable (GET /v2/flowControl/:key) for a while after their last message.
const IDLE_TTL_MS = 10 * 60_000;
const SWEEP_EVERY_MS = 60_000;

/** Parallelism and rate per flow-control key, in memory (rebuilt from messages on restart). */
export class FlowLimiter {
  readonly states = new Map<string, FlowState>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly now: () => number,
    private readonly onWake: (key: string) => void,
  ) {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_EVERY_MS);
    this.sweeper.unref();
  }

  /** A message using `flow` was added (`isNew` unless re-added): its limits become the key's unless pinned. */
  configure(flow: FlowControl, isNew = true): FlowState {
    const state = this.state(flow.key);
    state.fromMessage = { parallelism: flow.parallelism, rate: flow.rate, periodMs: (flow.period ?? 1) * 1000 };
    if (isNew) state.pending++;
    this.apply(state);
    return state;
  }

  /** A message using `key` left the dispatcher (delivered, failed or cancelled). */
  untrack(key: string, id: string): void {
    const state = this.states.get(key);
    if (!state) return;
    state.pending = Math.max(0, state.pending - 1);
    const index = state.waiting.indexOf(id);
    if (index >= 0) state.waiting.splice(index, 1);
    state.lastUsedAt = this.now();
  }

  state(key: string): FlowState {
    let state = this.states.get(key);
    if (!state) {
      state = { key, periodMs: 1000, fromMessage: {}, pinned: {}, active: 0, pending: 0, windowStart: 0, windowCount: 0, paused: false, waiting: [], lastUsedAt: this.now() };
      this.states.set(key, state);
    }
    return state;
  }

  /** Whether a delivery may start now; when the rate window is full, arms a wake-up for its end. */
  canAcquire(key: string): boolean {
    const state = this.state(key);
    if (state.paused) return false;
    if (state.parallelism !== undefined && state.active >= state.parallelism) return false;
    const now = this.now();
    if (now >= state.windowStart + state.periodMs) {
      state.windowStart = now;
      state.windowCount = 0;
    }
    if (state.rate !== undefined && state.windowCount >= state.rate) {
      this.armWake(state, state.windowStart + state.periodMs - now);
      return false;
    }
    return true;
  }

  acquire(key: string): void {
    const state = this.state(key);
    state.active++;
    state.windowCount++;
    state.lastUsedAt = this.now();
  }

  release(key: string): void {
    const state = this.states.get(key);
    if (state) state.active = Math.max(0, state.active - 1);
  }

  resetRate(key: string): void {
    const state = this.state(key);
    state.windowStart = this.now();
    state.windowCount = 0;
  }

  setPaused(key: string, paused: boolean): void {
    this.state(key).paused = paused;
  }

  /** Overrides the given limits until unpinned; messages added meanwhile do not change them. */
  pin(key: string, limits: FlowLimits): void {
    const state = this.state(key);
    if (limits.parallelism !== undefined) state.pinned.parallelism = limits.parallelism;
    if (limits.rate !== undefined) state.pinned.rate = limits.rate;
    if (limits.periodMs !== undefined) state.pinned.periodMs = limits.periodMs;
    this.apply(state);
  }

  /** Drops pins; the latest message's limits apply again. The period is pinned with the rate. */
  unpin(key: string, which: { parallelism: boolean; rate: boolean }): void {
    const state = this.state(key);
    if (which.parallelism) delete state.pinned.parallelism;
    if (which.rate) {
      delete state.pinned.rate;
      delete state.pinned.periodMs;
    }
    this.apply(state);
  }

  /** Forgets keys nothing uses, that nobody paused or pinned, idle for IDLE_TTL_MS. */
  sweep(): void {
    const now = this.now();
    for (const state of this.states.values()) {
      const pinned = Object.values(state.pinned).some((v) => v !== undefined);
      const windowOpen = now < state.windowStart + state.periodMs;
      const busy = state.pending > 0 || state.active > 0 || state.waiting.length > 0 || state.wakeTimer !== undefined;
      if (!busy && !pinned && !windowOpen && !state.paused && now - state.lastUsedAt >= IDLE_TTL_MS) this.states.delete(state.key);
    }
  }

  stop(): void {
    clearInterval(this.sweeper);
    for (const state of this.states.values()) if (state.wakeTimer) clearTimeout(state.wakeTimer);
  }

  private apply(state: FlowState): void {
    state.parallelism = state.pinned.parallelism ?? state.fromMessage.parallelism;
    state.rate = state.pinned.rate ?? state.fromMessage.rate;
    state.periodMs = state.pinned.periodMs ?? state.fromMessage.periodMs ?? 1000;
  }

  private armWake(state: FlowState, delay: number): void {
    if (state.wakeTimer) return;
    state.wakeTimer = setTimeout(() => {
      state.wakeTimer = undefined;
      this.onWake(state.key);
    }, Math.max(1, delay));
  }
}
