import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import { jobTypeConfig, JOB_TYPE_LIST, type AvailableJobType } from '../../shared/catalogue.ts';
import type { JobsDeps } from '../jobs/deps.ts';
import { toError } from '../jobs/errors.ts';
import type { HandlerRegistry, JobHandler } from '../jobs/handlers.ts';
import { createTokenVerifier } from '../auth/token.ts';
import { createDownloadRoute } from '../files/createDownloadRoute.ts';
import type { FilesDeps } from '../files/filesDeps.ts';
import type { Logger } from '../logger.ts';
import { cors } from '../security/cors.ts';
import { createEnqueueLimiter, createSubscriptionLimiterFor, type SecurityConfig } from '../security/securityConfig.ts';
import { securityHeaders } from '../security/securityHeaders.ts';
import { createTrpcMiddleware } from '../trpc/trpcMiddleware.ts';
import { createWebhookIngress, type WebhookIngressOptions } from '../webhooks/webhookIngress.ts';
import { createJobWorker, type SigningKeys } from './createJobWorker.ts';
import { createDashboardRoute } from './dashboardRoute.ts';
import { createJobHealthRoute } from './jobHealthRoute.ts';
import { jobMetrics } from '../metrics/jobMetrics.ts';
import { traceDeliveries } from '../tracing/jobTracing.ts';
import { createMetricsRoute, type MetricsOptions } from './metricsRoute.ts';
import { createReadinessCheck } from '../ops/readiness.ts';

export interface AppDeps {
  jobs: JobsDeps;
  handlers: HandlerRegistry;
  signingKeys: SigningKeys;
  authSecret: string;
  log: Logger;
  /** Stripe's webhook secret and the generic webhook sources. */
  webhooks?: Omit<WebhookIngressOptions, 'jobs'> | undefined;
  /** Rate limit, CORS, JWKS; defaults in `SecurityConfig`. */
  security?: SecurityConfig | undefined;
  /** Generated files (exports, reports): serves `GET /api/files/:fileId` when set. */
  files?: FilesDeps | undefined;
  /** `GET /metrics` on this app when `token` is set (with `port` only, the server serves it on that port instead). */
  metrics?: MetricsOptions | undefined;
  /** The broker `/readyz` checks is reachable, once its URL is known. Default: not checked. */
  brokerUrl?: (() => string | undefined) | undefined;
  /** False while the server is still starting: `/readyz` answers 503 `starting`. Default: started. */
  started?: (() => boolean) | undefined;
}

/** Largest delivery body a worker route accepts (QStash's own limit on the free plan); 413 beyond. */
export const WORKER_BODY_BYTES = 1024 * 1024;

const isAvailable = (type: (typeof JOB_TYPE_LIST)[number]): type is AvailableJobType => jobTypeConfig(type).availability === 'available';

/** The one composition root of the HTTP surface: every dependency comes in explicitly. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false); // never derive URLs or identities from X-Forwarded-* headers
  app.use(securityHeaders({ publicUrl: deps.jobs.publicUrl }));

  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  const readiness = createReadinessCheck({ db: deps.jobs.db, brokerUrl: deps.brokerUrl, started: deps.started }, deps.log);
  // `?broker=ignore` (for load balancers): the broker is still checked and reported, but an outage
  // does not take the instance out: enqueues go to the outbox and are published when it is back.
  app.get('/readyz', async (req, res) => {
    const ignoreBroker = req.query.broker === 'ignore';
    const result = await readiness();
    const reasons = ignoreBroker ? result.reasons.filter((r) => !r.startsWith('broker ')) : result.reasons;
    const { checks } = result;
    const ready = reasons.length === 0;
    res.set('Cache-Control', 'no-store');
    if (ready) return void res.json({ status: 'ready', checks });
    res.status(503).json({ status: 'unavailable', reason: reasons.join('; '), checks });
  });

  // Every content type is read raw under the same limit: a changed Content-Type cannot skip it.
  const raw = express.raw({ type: () => true, limit: WORKER_BODY_BYTES });
  for (const type of JOB_TYPE_LIST.filter(isAvailable)) {
    // The registry's mapped type pairs each type with its own handler; TypeScript cannot
    // correlate the two through a loop over the union, so widen once here.
    const handler = deps.handlers[type] as JobHandler<AvailableJobType>;
    app.post(jobTypeConfig(type).endpoint, countRefusedDeliveries, raw, traceDeliveries(type), createJobWorker(handler, { type, deps: deps.jobs, signingKeys: deps.signingKeys }));
  }

  app.use(createWebhookIngress({ jobs: deps.jobs, ...deps.webhooks }));

  // One verifier (and one JWKS cache) for downloads and /trpc alike.
  const verifyToken = createTokenVerifier({ secret: deps.authSecret, jwks: deps.security?.jwks, maxLifetimeS: deps.security?.maxTokenLifetimeS });
  if (deps.files) app.get('/api/files/:fileId', createDownloadRoute(deps.files, verifyToken));
  app.get('/api/admin/job-health', createJobHealthRoute(deps.jobs.db, verifyToken));
  if (deps.metrics?.token) app.get('/metrics', createMetricsRoute(deps.jobs.db, deps.metrics));

  app.use('/trpc', cors(deps.security?.corsOrigins ?? []));
  app.use(
    '/trpc',
    createTrpcMiddleware({
      deps: deps.jobs,
      log: deps.log,
      verifyToken,
      // The limiter schedule firings are charged to (JobsDeps), when the host built one.
      enqueueLimiter: deps.jobs.enqueueLimiter !== undefined ? deps.jobs.enqueueLimiter : createEnqueueLimiter(deps.jobs.db, deps.security),
      subscriptions: createSubscriptionLimiterFor(deps.security),
      files: deps.files,
    }),
  );

  app.use('/dashboard', createDashboardRoute({ authSecret: deps.authSecret })); // the web UI (dashboardRoute.ts)

  app.use((_req, res) => void res.status(404).json({ error: 'not found' }));
  app.use(errorHandler(deps.log));
  return app;
}

/** A worker route's 401 is a delivery without a valid Upstash-Signature: counted for `/metrics`. */
const countRefusedDeliveries: RequestHandler = (_req, res, next) => {
  res.once('finish', () => res.statusCode === 401 && jobMetrics.deliveryRefused('signature'));
  next();
};

/** Body-parser and other stray errors: a clear 4xx, or a generic 500 without details. */
function errorHandler(log: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    const status = typeof error === 'object' && error !== null && 'status' in error && typeof error.status === 'number' ? error.status : 500;
    if (status >= 500) log.error({ err: toError(error) }, '[http] Unhandled error');
    const message = status === 413 ? 'request body too large' : status < 500 ? toError(error).message : 'internal error';
    if (!res.headersSent) res.status(status).json({ error: message });
  };
}
