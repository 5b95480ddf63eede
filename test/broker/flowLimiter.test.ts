import { describe, expect, it } from 'vitest';
import { FlowLimiter } from '../../server/broker/dispatch/flowLimiter.ts';

describe('flow limiter', () => {
  it('forgets a key once nothing uses it and it has been idle a while, but keeps paused or pinned keys', () => {
    let now = 1_000_000;
    const flows = new FlowLimiter(() => now, () => {});
    try {
      for (const key of ['idle', 'paused', 'pinned', 'busy']) flows.configure({ key, parallelism: 1 });
      for (const key of ['idle', 'paused', 'pinned']) {
        flows.acquire(key);
        flows.release(key);
        flows.untrack(key, `m-${key}`);
      }
      flows.setPaused('paused', true);
      flows.pin('pinned', { parallelism: 2 });
      flows.sweep();
      expect([...flows.states.keys()].sort()).toEqual(['busy', 'idle', 'paused', 'pinned']); // idle, but only just
      now += 60 * 60_000;
      flows.sweep();
      expect([...flows.states.keys()].sort()).toEqual(['busy', 'paused', 'pinned']);
    } finally {
      flows.stop();
    }
  });
});
