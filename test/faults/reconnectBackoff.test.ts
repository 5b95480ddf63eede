import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecutor } from '../../server/broker/db/executor.ts';
import { openDatabase } from '../../server/db/database.ts';
import { TEST_DRIVER } from '../support/testDatabase.ts';
import { proxiedTestDatabase, type ProxiedDatabase } from './support/proxiedDatabase.ts';

/**
 * A restart of PostgreSQL fails every open connection and, for a second or two, every new one.
 * postgres.js counts those failures for the whole pool, and its default backoff grows to 10–20 s,
 * so a pool could sit out that long after the database came back (the fault suite's
 * postgres-restart once waited 14 s with no delivery). Both of jobwire's pools, the app's and the
 * embedded broker's, reconnect at most 2 s apart (server/db/reconnect.ts).
 */
let db: ProxiedDatabase;
beforeAll(async () => {
  if (TEST_DRIVER !== 'postgres') return;
  db = await proxiedTestDatabase();
});
afterAll(async () => {
  await db?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Opens the pool's ten connections, takes the database away for 6 s while callers keep asking,
 * and brings it back. Returns the longest stretch of the outage in which the pool made no
 * connection attempt, and how long after the database's return a statement first answered.
 */
async function outage(query: (text: string) => Promise<unknown>): Promise<{ longestQuietMs: number; recoveryMs: number }> {
  await Promise.all(Array.from({ length: 10 }, () => query('SELECT pg_sleep(0.05)')));
  db.proxy.mode('down');
  const down = Date.now();
  while (Date.now() - down < 6_000) {
    for (let i = 0; i < 10; i++) void query('SELECT 1').catch(() => undefined); // not awaited: a backoff may hold them
    await sleep(50);
  }
  const back = Date.now();
  db.proxy.mode('forward');
  const attempts = [down, ...db.proxy.accepted.filter((at) => at >= down && at < back), back];
  const longestQuietMs = Math.max(...attempts.slice(1).map((at, i) => at - attempts[i]!));
  while (!(await query('SELECT 1').then(() => true, () => false))) {
    if (Date.now() - back > 30_000) break;
    await sleep(50);
  }
  return { longestQuietMs, recoveryMs: Date.now() - back };
}

describe.skipIf(TEST_DRIVER !== 'postgres')('reconnecting after PostgreSQL was away', () => {
  it("the embedded broker's pool keeps trying at most 2 s apart and answers as soon as the database is back", async () => {
    const executor = createExecutor({ url: db.url, stallTimeoutMs: 15_000 });
    try {
      const { longestQuietMs, recoveryMs } = await outage((text) => executor.query(text));
      // Reconnects wait at most 2 s (+ slack for a loaded machine); postgres.js's default backoff
      // parks connections for up to 20 s (before the fix: quiet 2.5–4.6 s, recovery 1.6–6.1 s).
      expect(longestQuietMs).toBeLessThan(2_500);
      expect(recoveryMs).toBeLessThan(2_500);
    } finally {
      await executor.close();
    }
  }, 60_000);

  it("the app's pool keeps trying at most 2 s apart and answers as soon as the database is back", async () => {
    const database = await openDatabase({ url: db.url });
    try {
      const { longestQuietMs, recoveryMs } = await outage((text) => database.db.execute(text));
      expect(longestQuietMs).toBeLessThan(2_500);
      expect(recoveryMs).toBeLessThan(2_500);
    } finally {
      await database.close();
    }
  }, 60_000);
});
