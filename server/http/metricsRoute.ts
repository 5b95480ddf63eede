import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type Express, type RequestHandler } from 'express';
import type { DbOrTx } from '../db/database.ts';
import { processRegistry } from '../metrics/jobMetrics.ts';
import { createQueueGauges } from '../metrics/queueGauges.ts';

export interface MetricsOptions {
  /** `METRICS_TOKEN`: scrapers send `Authorization: Bearer <token>`. Without it, `/metrics` is served only on `port`. */
  token?: string | undefined;
  /** `METRICS_PORT`: serve `/metrics` on its own port (for a network only Prometheus reaches), token or not. */
  port?: number | undefined;
  /** How long the database gauges are reused between scrapes. Default 5 s. */
  cacheMs?: number | undefined;
}

const BEARER = /^Bearer[ ]+(\S+)\s*$/i;
const digest = (text: string) => createHash('sha256').update(text).digest();

/** `GET /metrics`: this process's counters and histograms, and the database's queue gauges, in Prometheus text format. */
export function createMetricsRoute(db: DbOrTx, options: MetricsOptions): RequestHandler {
  const gauges = createQueueGauges(db, options.cacheMs ?? 5_000);
  const expected = options.token === undefined ? undefined : digest(options.token);
  return async (req, res) => {
    if (expected) {
      const given = BEARER.exec(req.headers.authorization ?? '')?.[1];
      if (!given || !timingSafeEqual(digest(given), expected)) return void res.status(401).set('WWW-Authenticate', 'Bearer').json({ error: 'unauthorized' });
    }
    await gauges.update();
    const text = (await processRegistry.metrics()) + (await gauges.registry.metrics());
    res.set('Content-Type', processRegistry.contentType).set('Cache-Control', 'no-store').send(text);
  };
}

/** The app `METRICS_PORT` serves: `/metrics` and nothing else. */
export function createMetricsApp(db: DbOrTx, options: MetricsOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', createMetricsRoute(db, options));
  app.use((_req, res) => void res.status(404).json({ error: 'not found' }));
  return app;
}
