// The delivery side of the hot path alone (signed POST → verify → claim → handler → settle), on a
// database client of its own that counts every statement it sends, for test/perf/deliveryCost.*.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import express from 'express';
import pino from 'pino';
import postgres from 'postgres';
import { jobTypeConfig } from '../../shared/catalogue.ts';
import * as billingSchema from '../../server/db/billingSchema.ts';
import { queryRows, type Database, type Db } from '../../server/db/database.ts';
import * as filesSchema from '../../server/db/filesSchema.ts';
import { migrateDatabase } from '../../server/db/migrate.ts';
import * as rateLimitSchema from '../../server/db/rateLimitSchema.ts';
import * as coreSchema from '../../server/db/schema.ts';
import * as webhookSchema from '../../server/db/webhookSchema.ts';
import { createJobWorker } from '../../server/http/createJobWorker.ts';
import type { JobsDeps } from '../../server/jobs/deps.ts';
import type { JobHandler } from '../../server/jobs/handlers.ts';
import { signDelivery } from '../support/signDelivery.ts';

const schema = { ...coreSchema, ...filesSchema, ...billingSchema, ...webhookSchema, ...rateLimitSchema };
export const SIGNING_KEYS = { current: 'sig_perf_current_0123456789abcdef', next: 'sig_perf_next_0123456789abcdef' };
const WRITE = /\b(insert|update|delete)\b/i;

/** What the app sent to the database. `writeTransactions`: explicit transactions plus writing statements outside one. */
export interface StatementCount {
  statements: number;
  writeTransactions: number;
  log: string[];
}

export interface DeliveryHarness {
  url: string;
  db: Db;
  counted: StatementCount;
  /** Inserts `n` pending, published send-email jobs directly (the enqueue side is not measured here). */
  seed(n: number): Promise<string[]>;
  /** A signed delivery of `jobId` as the broker would send it. */
  signed(jobId: string): Promise<{ body: string; signature: string }>;
  post(delivery: { body: string; signature: string }): Promise<number>;
  reset(): void;
  stop(): Promise<void>;
}

/**
 * `target`: a postgres URL, or a PGlite instance. The handler is a no-op; the logger writes JSON
 * at `info` to /dev/null, as a production server would write it to a pipe.
 */
export async function startDeliveryHarness(target: { url?: string; pglite?: PGlite }, handler?: JobHandler<'send-email'>): Promise<DeliveryHarness> {
  const counted: StatementCount = { statements: 0, writeTransactions: 0, log: [] };
  const inTransaction = new Set<number>();
  const count = (connection: number, query: string) => {
    counted.statements++;
    counted.log.push(query.replace(/\s+/g, ' ').slice(0, 160));
    const head = query.trim().slice(0, 6).toLowerCase();
    if (head === 'begin' || head.startsWith('begin')) {
      inTransaction.add(connection);
      counted.writeTransactions++;
    } else if (head === 'commit' || head === 'rollba') inTransaction.delete(connection);
    else if (!inTransaction.has(connection) && WRITE.test(query)) counted.writeTransactions++;
  };
  let db: Db;
  let close: () => Promise<void>;
  if (target.url) {
    const client = postgres(target.url, { max: 10, onnotice: () => {}, debug: (connection, query) => count(connection, query) });
    db = drizzlePostgres(client, { schema }) as unknown as Db; // as in server/db/database.ts
    close = () => client.end({ timeout: 5 });
    await migrateDatabase({ url: target.url } as Database); // migrate reads only the URL
  } else {
    const pglite = target.pglite ?? new PGlite();
    // PGlite runs its own BEGIN/COMMIT inside `transaction()`: counted through drizzle's logger plus the wrapper below.
    const transaction = pglite.transaction.bind(pglite);
    pglite.transaction = ((fn: Parameters<typeof transaction>[0]) => {
      count(0, 'begin');
      return transaction(fn).finally(() => count(0, 'commit'));
    }) as typeof pglite.transaction;
    db = drizzlePglite(pglite, { schema, logger: { logQuery: (query) => count(inTransaction.has(0) ? 0 : 1, query) } }) as unknown as Db;
    close = async () => {
      if (!target.pglite) await pglite.close();
    };
    await migrateDatabase({ pglite } as Database); // migrate reads only the instance
  }

  const log = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false }));
  const deps: JobsDeps = {
    db,
    log,
    publicUrl: 'http://127.0.0.1:1',
    // Neither is reached on the delivery of a job envelope (only schedule firings enqueue).
    publisher: new Proxy({} as JobsDeps['publisher'], { get: () => () => Promise.reject(new Error('no broker in the delivery harness')) }),
    events: new Proxy({} as JobsDeps['events'], { get: () => () => undefined }),
  };
  const app = express();
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  // The route is added once the port is known: the signature names the public URL.
  const endpoint = jobTypeConfig('send-email').endpoint;
  deps.publicUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const url = `${deps.publicUrl}${endpoint}`;
  app.post(endpoint, express.raw({ type: () => true }), createJobWorker(handler ?? (async () => ({ sent: true })), { type: 'send-email', deps, signingKeys: SIGNING_KEYS }));

  return {
    url,
    db,
    counted,
    async seed(n) {
      const rows = await queryRows<{ job_id: string }>(db, sql`
        INSERT INTO job_executions (job_id, job_type, status, payload, max_retries, timeout_ms, organization_id, user_id, published_at, message_id)
        SELECT gen_random_uuid(), 'send-email', 'pending', jsonb_build_object('to', 'user' || i || '@example.com', 'template', 'welcome', 'data', '{}'::jsonb),
               3, 30000, 1, '1', now(), 'msg_' || i
        FROM generate_series(1, ${n}) AS i RETURNING job_id`);
      return rows.map((r) => r.job_id);
    },
    async signed(jobId) {
      const payload = { to: 'user@example.com', template: 'welcome', data: { recipientName: 'Ada' } };
      const body = JSON.stringify({ jobId, type: 'send-email', payload, metadata: { organizationId: 1, userId: '1', createdAt: new Date().toISOString() } });
      return { body, signature: await signDelivery({ url, body, key: SIGNING_KEYS.current }) };
    },
    async post({ body, signature }) {
      const res = await fetch(url, { method: 'POST', body, headers: { 'upstash-signature': signature, 'upstash-message-id': 'msg_perf', 'content-type': 'application/json' } });
      await res.arrayBuffer();
      return res.status;
    },
    reset() {
      counted.statements = 0;
      counted.writeTransactions = 0;
      counted.log.length = 0;
    },
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await close();
    },
  };
}
