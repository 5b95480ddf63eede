import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import type { SQL } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import postgres from 'postgres';
import { isDatabaseUnavailable } from '../jobs/errors.ts';
import { preparedPglite } from './pglitePrepared.ts';
import { reconnectOptions } from './reconnect.ts';
import { stallGuardedSockets } from './stallGuard.ts';
import * as billingSchema from './billingSchema.ts';
import * as filesSchema from './filesSchema.ts';
import * as coreSchema from './schema.ts';
import * as rateLimitSchema from './rateLimitSchema.ts';
import * as webhookSchema from './webhookSchema.ts';

const schema = { ...coreSchema, ...filesSchema, ...billingSchema, ...webhookSchema, ...rateLimitSchema };

export type Schema = typeof schema;
/** The drizzle database, whichever driver is underneath. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
/** A transaction, or the database itself: every query function takes either. */
export type DbOrTx = Db | PgTransaction<PgQueryResultHKT, Schema>;

export type Listener = (payload: string) => void;

export interface Database {
  readonly db: Db;
  readonly driver: 'pglite' | 'postgres';
  /** The connection URL (postgres driver only). */
  readonly url?: string;
  /** The PGlite instance underneath, to share with the embedded broker. */
  readonly pglite?: PGlite;
  /**
   * LISTEN on a channel; resolves to an unlisten function. One connection serves all channels.
   * `onReconnect` runs when the listening connection came back after a drop: notifications sent
   * in between were lost, so listeners must catch up from the tables.
   */
  listen(channel: string, onPayload: Listener, onReconnect?: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** A postgres:// URL; when absent, PGlite is used. */
  url?: string | undefined;
  /** PGlite data directory; absent means in memory. Ignored when `url` is set. */
  dataDir?: string | undefined;
  /** Pool size for the `postgres` driver. Default 10. */
  maxConnections?: number;
  /** An existing PGlite instance to share (the embedded broker and the app use one). */
  pglite?: PGlite;
  /**
   * Postgres driver: a connection that wrote and heard nothing back for this long is cut and
   * reconnected (a half-open path to the server); after 2 s (or half of it) without an answer
   * it is cut already if the server says its backend runs no statement. Default 15 s.
   */
  stallTimeoutMs?: number;
  /**
   * Postgres driver: use server-side prepared statements (parse and plan a statement once per
   * connection, then only bind and execute). `DATABASE_PREPARE=false` turns them off for poolers
   * that cannot keep them (PgBouncer in transaction mode before 1.21). Default true.
   */
  prepare?: boolean | undefined;
  /** Postgres driver: called with every statement sent, e.g. to count them (test/perf). Default none. */
  onStatement?: (connection: number, query: string) => void;
}

export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Database> {
  if (options.url) {
    return openPostgres(options.url, { max: options.maxConnections ?? 10, stallTimeoutMs: options.stallTimeoutMs ?? 15_000, prepare: options.prepare ?? true, onStatement: options.onStatement });
  }
  const pg = options.pglite ?? (await createPglite(options.dataDir));
  return {
    // Statements prepared once per text, as on PostgreSQL (server/db/pglitePrepared.ts).
    db: drizzlePglite(preparedPglite(pg), { schema }) as unknown as Db, // both drivers implement PgDatabase; only the HKT differs
    driver: 'pglite',
    pglite: pg,
    async listen(channel, onPayload) {
      const unlisten = await pg.listen(channel, onPayload);
      return unlisten;
    },
    async close() {
      if (!options.pglite && !pg.closed) await pg.close();
    },
  };
}

export async function createPglite(dataDir?: string): Promise<PGlite> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const pg = new PGlite(dataDir);
  await pg.waitReady;
  return pg;
}

function openPostgres(url: string, options: { max: number; stallTimeoutMs: number; prepare: boolean; onStatement: OpenDatabaseOptions['onStatement'] }): Database {
  const { max, stallTimeoutMs, prepare, onStatement } = options;
  const client = postgres(url, {
    max,
    ...(onStatement ? { debug: (connection: number, query: string) => onStatement(connection, query) } : {}),
    onnotice: () => {},
    // Bounded reconnect backoff, connect timeout, idle-in-transaction limit (server/db/reconnect.ts).
    ...reconnectOptions('jobwire'),
    // The driver supports a socket factory; its typings do not list it.
    ...({ socket: stallGuardedSockets(stallTimeoutMs, { probeUrl: url }) } as object),
    prepare,
  });
  return {
    db: drizzlePostgres(prepare ? preparing(client) : client, { schema }) as unknown as Db, // see above
    driver: 'postgres',
    url,
    async listen(channel, onPayload, onReconnect) {
      let listening = false;
      // postgres.js re-issues LISTEN on a fresh connection after a drop and calls this each time.
      const sub = await client.listen(channel, onPayload, () => {
        if (listening) onReconnect?.();
        listening = true;
      });
      return () => sub.unlisten();
    },
    async close() {
      await client.end({ timeout: 5 });
    },
  };
}

/**
 * The client drizzle is given, preparing every statement: drizzle's postgres-js session asks for
 * `prepare: false` unless a query is named (`.prepare('name')`), so each statement would be parsed
 * and planned on every call. postgres.js keeps one prepared statement per distinct text and
 * connection; jobwire's statements are a bounded set (values are always parameters). Transactions
 * and savepoints hand drizzle a client of their own, wrapped the same way.
 */
function preparing<T extends postgres.Sql | postgres.TransactionSql>(sql: T): T {
  return new Proxy(sql, {
    get(target, property, receiver) {
      if (property === 'unsafe') {
        return (query: string, params?: unknown[], options?: postgres.UnsafeQueryOptions) => target.unsafe(query, params as never, { ...options, prepare: true });
      }
      if (property === 'begin' || property === 'savepoint') {
        const method = Reflect.get(target, property, receiver) as (...args: unknown[]) => unknown;
        return (...args: unknown[]) => {
          const fn = args.pop() as (tx: postgres.TransactionSql) => unknown; // drizzle passes the callback last
          return method.call(target, ...args, (tx: postgres.TransactionSql) => fn(preparing(tx)));
        };
      }
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
}

/** Runs raw SQL and returns its rows, normalising the two drivers' result shapes. */
export async function queryRows<T = Record<string, unknown>>(db: DbOrTx, query: SQL): Promise<T[]> {
  const result: unknown = await db.execute(query);
  // postgres-js returns an array of rows; PGlite returns { rows }.
  if (Array.isArray(result)) return result as T[];
  return (result as { rows: T[] }).rows;
}

const CONNECT_FAILURE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Whether a start-up step failed because the database cannot be reached yet (refused, reset,
 * terminated, starting up, not resolvable yet): worth retrying, unlike a wrong password or a
 * missing database.
 */
export function isDatabaseUnreachable(error: unknown): boolean {
  if (isDatabaseUnavailable(error)) return true;
  let current: unknown = error;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth++) {
    const { code, errors } = current as { code?: unknown; errors?: unknown };
    if (typeof code === 'string' && CONNECT_FAILURE_CODES.has(code)) return true;
    // net's happy-eyeballs connect reports every address it tried in an AggregateError.
    if (Array.isArray(errors) && errors.some(isDatabaseUnreachable)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
