import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../server/db/groupCommit.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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

  it('with sameTurn, groups what is submitted in one turn of the event loop even when each flush finishes at once', async () => {
    const flushes: string[][] = [];
    // A flush that is done synchronously, as a PGlite statement is, and submissions from separate
    // callbacks of one turn (timers due together, as requests read together): microtasks run
    // between them, so without sameTurn each flush is over before the next submission.
    const flush = async (items: string[]) => (flushes.push(items), items);
    const fromCallbacks = (group: GroupCommit<string, string>, items: string[]) =>
      Promise.all(items.map((i) => new Promise<string>((resolve) => setTimeout(() => resolve(group.submit(i)), 0))));
    expect(await fromCallbacks(new GroupCommit<string, string>(flush), ['a', 'b', 'c'])).toEqual(['a', 'b', 'c']);
    expect(flushes).toEqual([['a'], ['b'], ['c']]);
    flushes.length = 0;
    const grouped = new GroupCommit<string, string>(flush, { sameTurn: true });
    expect(await fromCallbacks(grouped, ['a', 'b', 'c'])).toEqual(['a', 'b', 'c']);
    expect(await grouped.submit('d')).toBe('d');
    // The first after a quiet spell goes at once; those right behind it wait for the turn's end.
    expect(flushes).toEqual([['a'], ['b', 'c'], ['d']]);
    flushes.length = 0;
    await sleep(30); // quiet again: at once, alone
    const lone = grouped.submit('e');
    expect(flushes).toEqual([['e']]);
    await lone;
  });

  it('fails every item of a group at once when isolate says the error would fail each of them', async () => {
    const flushes: string[][] = [];
    const group = new GroupCommit<string, string>(
      async (items) => {
        flushes.push(items);
        await new Promise((resolve) => setTimeout(resolve, 5));
        throw Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });
      },
      { isolate: (error) => (error as { code?: string }).code !== 'ECONNREFUSED' },
    );
    const results = await Promise.allSettled(['a', 'b', 'c'].map((i) => group.submit(i)));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(flushes).toEqual([['a'], ['b', 'c']]); // no one-by-one retries
  });
});
