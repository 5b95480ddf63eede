import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import type { SQL } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import postgres from 'postgres';
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
}

export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Database> {
  if (options.url) return openPostgres(options.url, options.maxConnections ?? 10);
  const pg = options.pglite ?? (await createPglite(options.dataDir));
  return {
    db: drizzlePglite(pg, { schema }) as unknown as Db, // both drivers implement PgDatabase; only the HKT differs
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

function openPostgres(url: string, max: number): Database {
  const client = postgres(url, { max, onnotice: () => {}, connection: { application_name: 'jobwire' } });
  return {
    db: drizzlePostgres(client, { schema }) as unknown as Db, // see above
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

/** Runs raw SQL and returns its rows, normalising the two drivers' result shapes. */
export async function queryRows<T = Record<string, unknown>>(db: DbOrTx, query: SQL): Promise<T[]> {
  const result: unknown = await db.execute(query);
  // postgres-js returns an array of rows; PGlite returns { rows }.
  if (Array.isArray(result)) return result as T[];
  return (result as { rows: T[] }).rows;
}
