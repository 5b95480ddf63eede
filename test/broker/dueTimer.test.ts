import { describe, expect, it } from 'vitest';
import { DueTimer } from '../../server/broker/dispatch/dueTimer.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('DueTimer', () => {
  it('runs work that is due at once, and later work at its time', async () => {
    const fired: string[] = [];
    const timer = new DueTimer(Date.now, (key) => fired.push(key));
    timer.schedule('later', Date.now() + 150);
    timer.schedule('now', Date.now());
    await sleep(20);
    expect(fired).toEqual(['now']);
    await sleep(250);
    expect(fired).toEqual(['now', 'later']);
    timer.stop();
  });

  it('notices within about a second when the wall clock steps forward past a due time', async () => {
    // Due times are wall-clock, timers monotonic: an NTP step or a resumed VM moves only the former.
    let offset = 0;
    const now = () => Date.now() + offset;
    const fired: string[] = [];
    const timer = new DueTimer(now, (key) => fired.push(key));
    timer.schedule('in-an-hour', now() + 3_600_000);
    await sleep(50);
    offset = 3_600_000; // the clock steps an hour forward
    const stepped = Date.now();
    while (fired.length === 0 && Date.now() - stepped < 5_000) await sleep(20);
    expect(fired).toEqual(['in-an-hour']);
    expect(Date.now() - stepped).toBeLessThan(2_500); // not the hour the timer was first armed for
    timer.stop();
  });
});
