import postgres from 'postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { stallGuardedSockets, type StallGuardOptions } from '../../server/db/stallGuard.ts';
import { TEST_DRIVER } from '../support/testDatabase.ts';
import { startTcpProxy, type TcpProxy } from './support/tcpProxy.ts';

const ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const STALL_MS = 500;

let proxy: TcpProxy | undefined;
let sql: postgres.Sql | undefined;
afterEach(async () => {
  await sql?.end({ timeout: 1 });
  await proxy?.close();
});

/** A postgres.js pool through a proxy, its connections guarded against stalls as the server's are. */
async function guardedPool(max: number, guard: { stallMs?: number; probe?: Omit<StallGuardOptions, 'probeUrl'> } = {}) {
  const url = new URL(ADMIN_URL);
  proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
  url.port = String(proxy.port);
  const options = guard.probe ? { ...guard.probe, probeUrl: url.toString() } : {};
  sql = postgres(url.toString(), { max, onnotice: () => {}, backoff: () => 0.05, ...({ socket: stallGuardedSockets(guard.stallMs ?? STALL_MS, options) } as object) });
  return { sql, proxy };
}

/** Settles within `ms` or rejects with "still waiting". */
const within = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms))]);

describe.skipIf(TEST_DRIVER !== 'postgres')('a pool whose connections go half-open', () => {
  it('answers a query retried the moment its stalled connection is cut (it was lost before)', async () => {
    const { sql, proxy } = await guardedPool(1);
    await sql`select 1`;
    proxy.mode('freeze');
    proxy.mode('forward');
    // The first query waits on the frozen connection until the guard cuts it; its caller retries
    // at once, as claimWithRetry does, while the dying connection has not closed yet.
    const retried = sql`select 1 as n`.then(
      () => 'first answered',
      () => sql!`select 2 as n`.then(([row]) => row?.n as number),
    );
    expect(await within(retried, STALL_MS + 3_000).catch((error: unknown) => String(error))).not.toMatch(/still waiting/);
  });

  it('cuts the connections that went quiet with a stalled one, so each costs no stall of its own', async () => {
    const { sql, proxy } = await guardedPool(4);
    await Promise.all([1, 2, 3, 4].map(() => sql`select pg_sleep(0.05)`)); // four connections open
    proxy.mode('freeze');
    proxy.mode('forward');
    await sql`select 1`.catch(() => undefined); // one connection finds the stall
    const found = Date.now();
    // The other three froze with it; callers retry a connection error, as the server's statements do.
    const retrying = async (): Promise<number> => {
      for (let attempt = 1; ; attempt++) {
        try {
          await sql`select 1`;
          return Date.now() - found;
        } catch (error) {
          if (attempt >= 5) throw error;
        }
      }
    };
    const answeredAfter = await Promise.all([retrying(), retrying(), retrying()]);
    // Without the cut, each query waited out a stall of its own on a frozen idle connection first.
    expect(Math.max(...answeredAfter)).toBeLessThan(STALL_MS - 100);
  });

  it('cuts a frozen connection as soon as the server says its backend runs nothing, long before the stall timeout', async () => {
    const { sql, proxy } = await guardedPool(1, { stallMs: 20_000, probe: { suspectMs: 300 } });
    await sql`select 1`;
    proxy.mode('freeze');
    proxy.mode('forward');
    const started = Date.now();
    const error = await sql`select 1`.catch((e: unknown) => e as { code?: string });
    expect(error).toMatchObject({ code: 'CONNECTION_STALLED' });
    expect(Date.now() - started).toBeLessThan(2_000);
    // A query sent as the cut connection closes fails with it; the retry gets a fresh connection.
    expect(await sql`select 2 as n`.catch(() => sql`select 2 as n`)).toEqual([{ n: 2 }]);
  });

  it('leaves a statement running past the suspicion alone while its backend works on it', async () => {
    const { sql } = await guardedPool(1, { stallMs: 20_000, probe: { suspectMs: 300 } });
    await sql`select 1`;
    expect(await sql`select pg_sleep(1.5), 3 as n`).toEqual([{ pg_sleep: '', n: 3 }]);
  });
});
