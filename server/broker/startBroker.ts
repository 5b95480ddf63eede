import { setMaxListeners } from 'node:events';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import { QSTASH_DEV_CURRENT_SIGNING_KEY, QSTASH_DEV_NEXT_SIGNING_KEY, QSTASH_DEV_TOKEN } from '../env.ts';
import { dispatchCreated, type BrokerContext } from './brokerContext.ts';
import { createExecutor, type BrokerStorage } from './db/executor.ts';
import { GroupCommit } from '../db/groupCommit.ts';
import { migrate } from './db/migrate.ts';
import { deliverMessage } from './delivery/deliverMessage.ts';
import { Dispatcher } from './dispatch/dispatcher.ts';
import { createHttpServer } from './http/createHttpServer.ts';
import { ROUTES } from './http/routes.ts';
import { startHousekeeping } from './housekeeping.ts';
import { insertMessages, type InsertOutcome, type NewMessage } from './messages/insertMessage.ts';
import { listPendingForDispatch } from './messages/messageQueries.ts';
import { removeDelivered, type Settle } from './messages/settleMessage.ts';
import { listQueues } from './queues/queueStore.ts';
import { ScheduleRunner } from './schedules/scheduleRunner.ts';
import type { CallbackPolicy } from '../security/checkCallbackUrl.ts';

export interface BrokerOptions {
  /** Interface to bind. Default '127.0.0.1'. */
  host?: string;
  /** Default 8080; 0 picks an ephemeral port. */
  port?: number;
  /** Bearer token clients must send. Default: the official dev server's token. */
  token?: string;
  /** Key deliveries are signed with. Default: the official dev current key. */
  currentSigningKey?: string;
  /** Reported by /v2/keys and promoted on rotation. Default: the official dev next key. */
  nextSigningKey?: string;
  /** A shared PGlite instance (never closed by the broker) or a postgres:// URL (client owned by the broker). */
  storage: BrokerStorage;
  /** pino logger. Default: silent. */
  logger?: Logger;
  /** Bound on concurrent outgoing deliveries. Default 64. */
  maxConcurrentDeliveries?: number;
  /** Delivery timeout when a message has no `Upstash-Timeout`. Default 15 minutes. */
  defaultTimeoutMs?: number;
  /** Largest accepted message body. Default 1 MB (batch requests may carry 10×). */
  maxBodyBytes?: number;
  /** How long log entries are kept. Default 7 days. */
  eventRetentionMs?: number;
  /** Clock in ms, injectable for tests. Default Date.now. Timers are real: the clock should advance with real time. */
  now?: () => number;
  /**
   * Which addresses `Upstash-Callback` / `Upstash-Failure-Callback` URLs may reach (destinations
   * are never checked). Default `loopback`: this is a development broker, and a local service is
   * a development callback; link-local, private and other non-public addresses are refused.
   */
  callbacks?: CallbackPolicy | undefined;
}

export interface Broker {
  /** Base URL for `new Client({ baseUrl })`, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  readonly port: number;
  /** Closes the HTTP server and timers. Pending and in-flight messages stay stored and are delivered after a restart. */
  stop(): Promise<void>;
  /**
   * Test hook: fires every live schedule whose next slot is at or before `atMs` (default now()),
   * exactly as the timer would; the messages are due immediately. Returns what was published.
   */
  fireDueSchedules(atMs?: number): Promise<{ scheduleId: string; messageIds: string[] }[]>;
  /** Test hook: messages the dispatcher still holds (waiting, in flight or retrying). */
  pendingCount(): number;
}

// One flush's statement carries its messages' bodies (as base64 JSON): bounded, so a burst of large
// batches makes several statements rather than one huge string.
const ACCEPT_FLUSH_LIMITS = { maxItems: 100, maxWeight: 16 * 1024 * 1024, weigh: (call: NewMessage[]) => call.reduce((sum, m) => sum + m.spec.body.length + 512, 0) };
// Likewise the response bodies a settle logs.
const SETTLE_FLUSH_LIMITS = { maxItems: 500, maxWeight: 16 * 1024 * 1024, weigh: (settle: Settle) => settle.result.body.length + 512 };

export async function startBroker(options: BrokerOptions): Promise<Broker> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const now = options.now ?? Date.now;
  const db = createExecutor(options.storage);
  const tracked = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    tracked.add(p);
    // Tracked work handles its own errors; this only forgets it once settled.
    p.finally(() => tracked.delete(p)).catch(() => {});
  };
  const abort = new AbortController();
  setMaxListeners(0, abort.signal); // one listener per in-flight delivery
  try {
    await migrate(db);
  } catch (error) {
    await db.close();
    throw error;
  }
  // Concurrent publishes and concurrent deliveries each share one statement (one commit) per flush.
  // PGlite runs a statement on this thread, so a flush is done before the next request is read:
  // there the flush waits for the end of the turn, so the requests read in it go together.
  const sameTurn = 'pglite' in options.storage;
  const accept = new GroupCommit<NewMessage[], InsertOutcome[]>(
    async (calls) => {
      const outcomes = await insertMessages(db, calls.flat(), { now: now(), ensureQueues: true });
      let next = 0;
      return calls.map((call) => outcomes.slice(next, (next += call.length)));
    },
    { ...ACCEPT_FLUSH_LIMITS, sameTurn },
  );
  const delivered = new GroupCommit<Settle, boolean>((settles) => removeDelivered(db, settles), { ...SETTLE_FLUSH_LIMITS, sameTurn });
  const callbacks = { lookup: options.callbacks?.lookup, privateAddresses: options.callbacks?.privateAddresses ?? 'loopback' } as const;
  // The dispatcher calls back into `schedules`, which is created right below and before anything can fire.
  const ctx: BrokerContext = {
    db,
    now,
    logger,
    token: options.token ?? QSTASH_DEV_TOKEN,
    keys: { current: options.currentSigningKey ?? QSTASH_DEV_CURRENT_SIGNING_KEY, next: options.nextSigningKey ?? QSTASH_DEV_NEXT_SIGNING_KEY },
    maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
    accept,
    dispatcher: new Dispatcher({
      maxConcurrent: options.maxConcurrentDeliveries ?? 64,
      now,
      logger,
      deliver: (id, cached) =>
        deliverMessage(
          {
            db,
            now,
            logger,
            signal: abort.signal,
            defaultTimeoutMs: options.defaultTimeoutMs ?? 15 * 60_000,
            signingKey: () => ctx.keys.current,
            onCreated: (messages) => dispatchCreated(ctx, messages),
            settleDelivered: (settle) => delivered.submit(settle),
            callbacks,
          },
          id,
          cached,
        ),
      onScheduleDue: (id) => schedules.onDue(id),
    }),
  };
  const schedules = new ScheduleRunner(ctx, track);
  const server = createHttpServer(ctx, ROUTES, track);
  const host = options.host ?? '127.0.0.1';
  let stopHousekeeping = () => {};
  try {
    for (const queue of await listQueues(db)) ctx.dispatcher.lanes.configure(queue.name, queue);
    for (const row of await listPendingForDispatch(db)) {
      const flow = row.flow_key ? { key: row.flow_key, parallelism: row.flow_parallelism ?? undefined, rate: row.flow_rate ?? undefined, period: row.flow_period ?? undefined } : undefined;
      ctx.dispatcher.add({ id: row.id, seq: Number(row.seq), dueAt: Number(row.due_at), queueName: row.queue_name ?? undefined, flow });
    }
    await schedules.load();
    stopHousekeeping = startHousekeeping({ db, now, eventRetentionMs: options.eventRetentionMs ?? 7 * 86_400_000, logger, track });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 8080, host, () => resolve());
    });
  } catch (error) {
    // A broker that failed to start must not keep delivering from the timers it armed while loading.
    abort.abort();
    stopHousekeeping();
    if (server.listening) server.close();
    await ctx.dispatcher.stop();
    await Promise.allSettled([...tracked]);
    await db.close();
    throw error;
  }
  const port = (server.address() as AddressInfo).port; // listening on TCP, so address() is an AddressInfo
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  logger.info({ port, host, pending: ctx.dispatcher.pendingCount }, '[broker] QStash-compatible broker started');

  let stopping: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    stop() {
      stopping ??= (async () => {
        abort.abort();
        stopHousekeeping();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await ctx.dispatcher.stop();
        await closed;
        await Promise.allSettled([...tracked]);
        await db.close();
        logger.info('[broker] QStash-compatible broker stopped');
      })();
      return stopping;
    },
    fireDueSchedules: (atMs) => schedules.fireDue(atMs ?? now()),
    pendingCount: () => ctx.dispatcher.pendingCount,
  };
}
