import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../server/db/groupCommit.ts';

describe('GroupCommit', () => {
  it('flushes a lone submission at once, and groups those that arrive while a flush is in flight', async () => {
    const flushes: string[][] = [];
    const group = new GroupCommit<string, string>(async (items) => {
      flushes.push(items);
      await new Promise((resolve) => setTimeout(resolve, 20));
      return items.map((i) => i.toUpperCase());
    });
    const first = group.submit('a');
    expect(flushes).toEqual([['a']]); // no waiting when nothing is in flight
    const rest = ['b', 'c', 'd'].map((i) => group.submit(i));
    expect(await Promise.all([first, ...rest])).toEqual(['A', 'B', 'C', 'D']);
    expect(flushes).toEqual([['a'], ['b', 'c', 'd']]);
  });

  it('retries a failed group one by one, so only the bad item fails', async () => {
    const flushes: string[][] = [];
    const group = new GroupCommit<string, string>(async (items) => {
      flushes.push(items);
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (items.includes('bad')) throw new Error('poisoned');
      return items;
    });
    const results = await Promise.allSettled(['a', 'b', 'bad', 'c'].map((i) => group.submit(i)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(flushes).toEqual([['a'], ['b', 'bad', 'c'], ['b'], ['bad'], ['c']]);
  });

  it('bounds a flush by weight, letting a lone heavy submission through', async () => {
    const flushes: number[][] = [];
    const group = new GroupCommit<number, number>(
      async (items) => {
        flushes.push(items);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return items;
      },
      { maxWeight: 10, weigh: (n) => n },
    );
    await Promise.all([1, 4, 4, 4, 20, 3].map((n) => group.submit(n)));
    expect(flushes).toEqual([[1], [4, 4], [4], [20], [3]]);
  });
});
