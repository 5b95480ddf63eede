import type { JobPublisher } from './deps.ts';

/**
 * What the last publish to a broker said about it: reachable or not. The sweeper drains quickly
 * while the broker is reachable, probes it every second while it is not, and is woken by the first
 * publish (an enqueue's) that gets through again.
 */
export interface BrokerReachability {
  readonly reachable: boolean;
  /** A publish got through (`true`) or failed for want of the broker (`false`). */
  note(reachable: boolean): void;
  /** Runs `listener` each time the broker becomes reachable again; returns an unsubscribe function. */
  onReachable(listener: () => void): () => void;
  /** Runs `listener` on every publish that failed for want of the broker; returns an unsubscribe function. */
  onFailure(listener: () => void): () => void;
}

const byPublisher = new WeakMap<JobPublisher, BrokerReachability>();

export function brokerReachability(publisher: JobPublisher): BrokerReachability {
  let state = byPublisher.get(publisher);
  if (!state) {
    state = createReachability();
    byPublisher.set(publisher, state);
  }
  return state;
}

function createReachability(): BrokerReachability {
  let reachable = true;
  const listeners = new Set<() => void>();
  const failureListeners = new Set<() => void>();
  return {
    get reachable() {
      return reachable;
    },
    note(now) {
      const back = now && !reachable;
      reachable = now;
      if (back) for (const listener of listeners) listener();
      if (!now) for (const listener of failureListeners) listener();
    },
    onReachable(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onFailure(listener) {
      failureListeners.add(listener);
      return () => failureListeners.delete(listener);
    },
  };
}
