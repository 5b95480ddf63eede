import type { PGlite, Transaction } from '@electric-sql/pglite';
import postgres from 'postgres';
import { preparedPglite } from '../../db/pglitePrepared.ts';
import { stallGuardedSockets } from '../../db/stallGuard.ts';
import { reconnectOptions } from '../../db/reconnect.ts';

export type Row = Record<string, unknown>;
export type Param = string | number | boolean | null | Uint8Array;

/** The only way broker code talks to Postgres: plain SQL, positional `$n` params. */
export interface Queryable {
  query<T = Row>(text: string, params?: readonly Param[]): Promise<T[]>;
}

export interface Executor extends Queryable {
  /** Runs `fn` in one transaction; every statement inside must use the `tx` it is given. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs a multi-statement script (migrations). */
  exec(text: string): Promise<void>;
  /** Closes what the executor created; a PGlite instance passed in stays open. */
  close(): Promise<void>;
}

/**
 * A shared PGlite, a postgres:// URL, or a ready executor (closed by the broker; benchmarks wrap one to count statements).
 * `prepare` (postgres URL only): server-side prepared statements, as the app's `DATABASE_PREPARE`.
 * Default true: an unprepared statement with parameters costs postgres.js a second round trip (it
 * asks the server for the parameter types first). False for PgBouncer in transaction mode before 1.21.
 * `stallTimeoutMs` (postgres URL only): a connection that wrote and heard nothing back for this
 * long is cut (server/db/stallGuard.ts), as the app's `stallTimeoutMs`. Default 15 s.
 */
export type BrokerStorage = { pglite: PGlite } | { url: string; prepare?: boolean | undefined; stallTimeoutMs?: number | undefined } | { executor: Executor };

export function createExecutor(storage: BrokerStorage): Executor {
  if ('executor' in storage) return storage.executor;
  return 'pglite' in storage ? wrapPglite(storage.pglite) : wrapPostgres(storage.url, { prepare: storage.prepare ?? true, stallTimeoutMs: storage.stallTimeoutMs ?? 15_000 });
}

function pgliteQueryable(db: PGlite | Transaction): Queryable {
  return {
    async query<T>(text: string, params: readonly Param[] = []) {
      const result = await db.query<T>(text, [...params]);
      return result.rows;
    },
  };
}

function wrapPglite(shared: PGlite): Executor {
  const pglite = preparedPglite(shared); // statements prepared once, as on PostgreSQL below
  return {
    ...pgliteQueryable(pglite),
    transaction: (fn) => pglite.transaction((tx) => fn(pgliteQueryable(tx))),
    async exec(text) {
      await pglite.exec(text);
    },
    async close() {},
  };
}

// postgres.js returns int8 as strings; the broker's ms timestamps and sequences fit in a double.
const int8AsNumber = { to: 20, from: [20], serialize: (x: unknown) => String(x), parse: (x: string) => Number(x) };

function wrapPostgres(url: string, { prepare, stallTimeoutMs }: { prepare: boolean; stallTimeoutMs: number }): Executor {
  const sql = postgres(url, {
    max: 10,
    onnotice: () => {},
    types: { int8AsNumber },
    // The app's reconnect policy: postgres.js's default backoff parks a pool for 10–20 s after a restart (server/db/reconnect.ts).
    ...reconnectOptions('jobwire-qstash-broker'),
    // A connection that went half-open is cut instead of hanging the broker (server/db/stallGuard.ts).
    ...({ socket: stallGuardedSockets(stallTimeoutMs, { probeUrl: url }) } as object),
  });
  const queryable = (db: postgres.Sql | postgres.TransactionSql): Queryable => ({
    async query<T>(text: string, params: readonly Param[] = []) {
      // `unsafe` prepares nothing unless asked; a statement without parameters goes as a simple query either way.
      const rows = await db.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare });
      return rows as unknown as T[];
    },
  });
  return {
    ...queryable(sql),
    transaction: async (fn) => (await sql.begin((tx) => fn(queryable(tx)))) as Awaited<ReturnType<typeof fn>>,
    async exec(text) {
      await sql.unsafe(text);
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}
