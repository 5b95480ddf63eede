import type { Server } from 'node:http';
import type { PGlite } from '@electric-sql/pglite';
import { startBroker, type Broker } from './broker/startBroker.ts';
import { isDatabaseUnreachable, openDatabase, type Database } from './db/database.ts';
import { migrateDatabase } from './db/migrate.ts';
import { resolveEmailBrand, type BrandOptions, type EmailBrand } from './email/branding.ts';
import { createDevMailbox, type DevMailbox } from './email/devMailbox.ts';
import type { EmailSender } from './email/emailSender.ts';
import { createResendSender } from './email/resendSender.ts';
import { QSTASH_DEV_CURRENT_SIGNING_KEY, QSTASH_DEV_NEXT_SIGNING_KEY, QSTASH_DEV_TOKEN } from './env.ts';
import { createApp } from './http/createApp.ts';
import type { MetricsOptions } from './http/metricsRoute.ts';
import { startMetricsServer, type MetricsServer } from './metrics/metricsServer.ts';
import { urlHost } from './http/listenHost.ts';
import type { SigningKeys } from './http/createJobWorker.ts';
import { createGatedServer, type HttpLimits } from './security/httpServer.ts';
import type { CallbackPolicy } from './security/checkCallbackUrl.ts';
import type { JobPublisher, JobsDeps } from './jobs/deps.ts';
import { createDispatcher, type Dispatcher } from './jobs/dispatcher.ts';
import { publishBatcher } from './jobs/publishBatcher.ts';
import { toError } from './jobs/errors.ts';
import { startJobEventHub } from './jobs/eventHub.ts';
import type { HandlerRegistry } from './jobs/handlers.ts';
import { createHandlerRegistry, loadJobHandlers } from './jobs/loadJobHandlers.ts';
import { startSweeper, type SweeperOptions } from './jobs/sweeper.ts';
import { startBulkResumer, type BulkResumerOptions } from './ops/resumeBulkOperations.ts';
import type { Logger } from './logger.ts';
import { createEnqueueLimiter, type SecurityConfig } from './security/securityConfig.ts';
import { createQStashClient, createQStashPublisher } from './qstash/createQStashPublisher.ts';
import { registerDefaultServer, unregisterDefaultServer } from './defaultServer.ts';
import { ensureDefaultSchedules } from './cleanup/ensureDefaultSchedules.ts';
import type { ExportRegistry } from './exports/exportRegistry.ts';
import { createDataJobs } from './files/createDataJobs.ts';
import { createWebhookHandlers, type WebhookHandlers } from './webhooks/webhookHandlers.ts';
import type { WebhookSource } from './webhooks/webhookSource.ts';

export interface ServerConfig {
  /** 0 picks a free port. */
  port: number;
  /** Address to listen on. Default `127.0.0.1`; `::` is every interface (main.ts maps HOST=0.0.0.0 to it). */
  host?: string;
  /** Where QStash reaches this server. Default `http://127.0.0.1:<port>`. */
  publicUrl?: string | undefined;
  /**
   * `stallTimeoutMs`, `prepare`: postgres only, see `OpenDatabaseOptions`. `pglite` may still be
   * opening (a promise): the handler files are imported meanwhile (main.ts does this).
   */
  database: { url?: string | undefined; dataDir?: string | undefined; pglite?: PGlite | Promise<PGlite>; stallTimeoutMs?: number; prepare?: boolean };
  /** `embedded` starts the broker in-process on this database; otherwise QStash cloud (or any compatible URL). */
  qstash: { embedded: { port: number; host?: string | undefined } } | { baseUrl?: string | undefined; token: string; signingKeys: SigningKeys };
  authSecret: string;
  /** `from`: the sender, `address` or `Name <address>`; default `noreply@example.com`, named after `brand`. */
  email: { resendApiKey?: string | undefined; resendBaseUrl?: string | undefined; from?: string | undefined; mailboxDir: string };
  /** Product name, sender name, support and logo URLs every email uses; validated at start. Default none: neutral wording. */
  brand?: BrandOptions | undefined;
  log: Logger;
  sweeper?: SweeperOptions;
  /** Taking over bulk operations whose process died mid-run. */
  bulkResumer?: BulkResumerOptions;
  /** Most schedules one organization may have. Default 1,000. */
  maxSchedulesPerOrganization?: number;
  /** Retry backoff override (tests); default QStash's. */
  backoff?: (retryCount: number) => number;
  /** HTTP timeouts and connection cap; defaults in `DEFAULT_HTTP_LIMITS` (server/security/httpServer.ts). */
  httpLimits?: Partial<HttpLimits> | undefined;
  /** Which addresses `callback` / `failureCallback` may reach, at enqueue and in the embedded broker. Default: public only. */
  callbacks?: CallbackPolicy | undefined;
  /**
   * How long start-up keeps retrying while the database is unreachable (refused, reset, starting
   * up), backing off from 250 ms to 5 s; then the last error is thrown. Default 2 minutes.
   */
  startupRetryMs?: number;
  /** How long `stop()` lets running requests finish before cutting connections. Default 10 s. */
  drainTimeoutMs?: number;
  /** Enqueue rate limit, CORS origins, JWKS; defaults in `SecurityConfig`. */
  security?: SecurityConfig;
  /** Replace built-in handlers (tests, host apps); each stands in for its type's handler file. */
  handlers?: Partial<HandlerRegistry>;
  /** Folder of the handler files, one per job type (`<type>.ts`). Default `server/handlers/`. */
  handlersDir?: URL | string | undefined;
  /** Where exports and reports are stored. Default `.data/files` (main.ts: `<DATA_DIR>/files`). */
  filesDir?: string | undefined;
  /** Export entity types: `createDefaultExportRegistry().register(...)`. Default the built-ins. */
  exportRegistry?: ExportRegistry;
  /** Create the built-in schedules (daily `cleanup-old-data`) at start-up, idempotently. Default true. */
  defaultSchedules?: boolean;
  /**
   * Stripe webhooks: `webhookSecret` (STRIPE_WEBHOOK_SECRET) enables `POST /api/stripe/webhook`;
   * `updatePaymentUrl` is the paymentFailed email's link when an invoice has no hosted page.
   */
  stripe?: { webhookSecret?: string | undefined; updatePaymentUrl?: string | undefined };
  /** `GET /metrics`: behind `token` on this server's port, and/or on its own `port`. Default: not served. */
  metrics?: MetricsOptions | undefined;
  /** Generic webhook senders, served at `POST /api/webhooks/<name>`. Default none. */
  webhookSources?: readonly WebhookSource[] | undefined;
  /** What runs for each stored generic webhook event: `createWebhookHandlers().on(source, event, fn)`. */
  webhookHandlers?: WebhookHandlers;
  /**
   * Make this server the one the module-level API (`jobDispatcher`, `send*EmailAsync`, the
   * job-execution queries, `createJobWorker(handler)`) acts on, until it stops. Default true.
   */
  default?: boolean;
}

export interface RunningServer {
  readonly url: string;
  readonly publicUrl: string;
  readonly database: Database;
  readonly broker: Broker | undefined;
  readonly jobs: JobsDeps;
  readonly dispatcher: Dispatcher;
  readonly mailbox: DevMailbox | undefined;
  /** Where `send*Email` (the synchronous helpers) send: Resend, or the dev mailbox. */
  readonly email: { readonly sender: EmailSender; readonly from: string; readonly brand: EmailBrand };
  /** Signing keys the worker routes verify deliveries with. */
  readonly signingKeys: SigningKeys;
  readonly http: Server;
  /** Where `/metrics` is served on its own port (`metrics.port`), if it is. */
  readonly metricsUrl: string | undefined;
  stop(): Promise<void>;
}

/**
 * Opens the database, migrates, starts the broker if embedded, and serves the app. If any step
 * fails, what the earlier steps opened is released before the error is rethrown.
 */
export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const giveUpAt = Date.now() + (config.startupRetryMs ?? 120_000);
  for (let attempt = 1; ; attempt++) {
    const opened: Array<() => Promise<void>> = []; // undo steps, in the order they were opened
    try {
      return await start(config, opened);
    } catch (error) {
      for (const release of opened.reverse()) await release().catch(() => undefined);
      // The database not reachable yet (a failover, a restart, a container starting next to us):
      // start again with backoff instead of giving up; anything else fails at once.
      const delay = Math.min(STARTUP_RETRY_MAX_MS, STARTUP_RETRY_FIRST_MS * 2 ** (attempt - 1));
      if (!isDatabaseUnreachable(error) || Date.now() + delay > giveUpAt) throw error;
      config.log.warn({ err: toError(error), attempt, retryInMs: delay }, '[server] Database unreachable at start-up; retrying');
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

const STARTUP_RETRY_FIRST_MS = 250;
const STARTUP_RETRY_MAX_MS = 5_000;

async function start(config: ServerConfig, opened: Array<() => Promise<void>>): Promise<RunningServer> {
  const { log } = config;
  const took = startupSteps();
  const branding = resolveEmailBrand(config.brand, config.email.from); // bad values refuse the start before anything opens
  // Before anything is opened: a job type without its handler file fails start-up at once.
  const handlerDefinitions = await loadJobHandlers({ dir: config.handlersDir, overrides: config.handlers });
  took('handlers');
  const database = await openDatabase({ ...config.database, pglite: await config.database.pglite });
  opened.push(() => database.close());
  took('database');
  await migrateDatabase(database);
  took('migrations');

  // Start-up order: the port answers only once the app can, and the broker (which may deliver at
  // once) starts only after that; until it is up, publishing waits for it.
  const gate = createGatedServer(config.httpLimits);
  const http = gate.server;
  const host = config.host ?? '127.0.0.1';
  opened.push(() => gate.close());
  // Port 0 without a public URL: the URL QStash uses is known only once listening, so listen now, behind the 503 gate.
  const listenEarly = config.port === 0 && config.publicUrl === undefined;
  let port = listenEarly ? await gate.listen(0, host) : config.port;
  const publicUrl = (config.publicUrl ?? `http://${urlHost(host)}:${port}`).replace(/\/+$/, '');
  const publisher = deferred<JobPublisher>();
  opened.push(async () => publisher.reject(new Error('jobwire failed to start')));
  const signingKeys = 'embedded' in config.qstash ? { current: QSTASH_DEV_CURRENT_SIGNING_KEY, next: QSTASH_DEV_NEXT_SIGNING_KEY } : config.qstash.signingKeys;

  const events = await startJobEventHub(database, log);
  opened.push(() => events.stop());
  const dataJobs = createDataJobs({ db: database.db, log, publicUrl, authSecret: config.authSecret, filesDir: config.filesDir, exportRegistry: config.exportRegistry });
  const jobs: JobsDeps = {
    db: database.db,
    publisher: deferredPublisher(publisher.promise),
    callbacks: config.callbacks,
    log,
    publicUrl,
    events,
    payloadChecks: dataJobs.payloadChecks,
    payloadAccess: dataJobs.payloadAccess,
    // One limiter for jobs.enqueue, jobs.schedule and schedule firings (createApp reuses it).
    enqueueLimiter: createEnqueueLimiter(database.db, config.security),
    ...(config.maxSchedulesPerOrganization ? { maxSchedulesPerOrganization: config.maxSchedulesPerOrganization } : {}),
    ...(config.backoff ? { backoff: config.backoff } : {}),
  };
  const mailbox = config.email.resendApiKey ? undefined : createDevMailbox({ dir: config.email.mailboxDir, logger: log });
  const sender: EmailSender = config.email.resendApiKey
    ? createResendSender({ apiKey: config.email.resendApiKey, baseUrl: config.email.resendBaseUrl, logger: log })
    : mailbox!; // set whenever there is no Resend key
  const handlers = createHandlerRegistry(handlerDefinitions, {
    jobs,
    db: database.db,
    log,
    email: { sender, ...branding },
    dataJobs: dataJobs.handlers,
    stripe: { updatePaymentUrl: config.stripe?.updatePaymentUrl },
    webhookHandlers: config.webhookHandlers ?? createWebhookHandlers(),
  });

  const brokerAt: { url?: string } = {}; // `/readyz` checks the broker once it is known
  let started = false; // `/readyz` answers 503 `starting` until start() returns
  gate.open(createApp({ jobs, handlers, signingKeys, authSecret: config.authSecret, log, security: config.security, webhooks: { stripe: config.stripe, sources: config.webhookSources }, files: dataJobs.files, metrics: config.metrics, brokerUrl: () => brokerAt.url, started: () => started }));
  let metricsServer: MetricsServer | undefined;
  if (config.metrics?.port !== undefined) metricsServer = await startMetricsServer(database.db, { ...config.metrics, port: config.metrics.port }, host);
  if (metricsServer) opened.push(metricsServer.close);
  if (!listenEarly) port = await gate.listen(config.port, host);
  const url = `http://${urlHost(host)}:${port}`;
  took('listening');

  let broker: Broker | undefined;
  let qstash: { baseUrl?: string | undefined; token: string };
  if ('embedded' in config.qstash) {
    const storage = database.pglite ? { pglite: database.pglite } : { url: database.url!, prepare: config.database.prepare, stallTimeoutMs: config.database.stallTimeoutMs }; // a database is PGlite or has a URL
    const callbacks = { privateAddresses: config.callbacks?.privateAddresses ?? 'refuse', lookup: config.callbacks?.lookup };
    const started = await startBroker({ port: config.qstash.embedded.port, host: config.qstash.embedded.host, storage, logger: log.child({ component: 'broker' }), callbacks });
    opened.push(() => started.stop());
    broker = started;
    qstash = { baseUrl: broker.url, token: QSTASH_DEV_TOKEN };
  } else {
    qstash = config.qstash;
  }
  took('broker');
  brokerAt.url = qstash.baseUrl ?? 'https://qstash.upstash.io';
  publisher.resolve(createQStashPublisher(createQStashClient(qstash), publicUrl));
  const sweeper = startSweeper(jobs, config.sweeper);
  opened.push(() => sweeper.stop());
  const bulkResumer = startBulkResumer(jobs, config.bulkResumer);
  opened.push(() => bulkResumer.stop());
  took('sweeper');
  if (config.defaultSchedules ?? true) await ensureDefaultSchedules(jobs);
  took('defaultSchedules');
  log.info({ url, publicUrl, driver: database.driver, broker: broker?.url ?? qstash.baseUrl ?? 'qstash cloud', startupMs: took.all() }, '[server] Listening');

  const server: RunningServer = {
    url,
    publicUrl,
    database,
    broker,
    jobs,
    dispatcher: createDispatcher(jobs),
    mailbox,
    email: { sender, ...branding },
    signingKeys,
    http,
    metricsUrl: metricsServer?.url,
    async stop() {
      unregisterDefaultServer(server);
      await sweeper.stop();
      await bulkResumer.stop();
      // Stop taking new requests and let running ones settle (up to a drain limit; SSE streams
      // never end on their own), then release the broker and the database.
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeIdleConnections();
      const drain = setTimeout(() => http.closeAllConnections(), config.drainTimeoutMs ?? 10_000);
      await closed;
      clearTimeout(drain);
      await publishBatcher(jobs).flush(); // enqueues answered before their publish: publish them now, not at the next start's sweep
      await metricsServer?.close();
      await jobs.events.stop();
      await broker?.stop();
      await database.close();
      log.info('[server] Stopped');
    },
  };
  if (config.default ?? true) registerDefaultServer(server);
  started = true;
  return server;
}

/** Milliseconds each start-up step took (logged with "[server] Listening"; docs/performance.md "Start-up"). */
function startupSteps() {
  const steps: Record<string, number> = {};
  const began = performance.now();
  let last = began;
  const took = (step: string) => {
    const now = performance.now();
    steps[step] = Math.round(now - last);
    last = now;
  };
  took.all = () => ({ ...steps, total: Math.round(last - began) });
  return took;
}

function deferred<T>() {
  let resolve!: (value: T) => void; // both set by the executor, which runs at once
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  promise.catch(() => undefined); // a start-up failure with no publish waiting is not unhandled
  return { promise, resolve, reject };
}

/** Publishes through the publisher `ready` resolves to: calls made before the broker is up wait for it. */
function deferredPublisher(ready: Promise<JobPublisher>): JobPublisher {
  return {
    publish: async (request) => (await ready).publish(request),
    publishBatch: async (requests) => {
      const publisher = await ready;
      return publisher.publishBatch ? publisher.publishBatch(requests) : Promise.all(requests.map((r) => publisher.publish(r).catch((error: unknown) => ({ error: toError(error) }))));
    },
    cancel: async (messageId) => (await ready).cancel(messageId),
    deliveryLog: async (messageId) => (await ready).deliveryLog?.(messageId) ?? [],
    upsertSchedule: async (request) => (await ready).upsertSchedule(request),
    hasSchedule: async (request) => (await ready).hasSchedule?.(request) ?? false,
    pauseSchedule: async (scheduleId) => (await ready).pauseSchedule(scheduleId),
    resumeSchedule: async (scheduleId) => (await ready).resumeSchedule(scheduleId),
    deleteSchedule: async (scheduleId) => (await ready).deleteSchedule(scheduleId),
  };
}
