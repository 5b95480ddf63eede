import type { TRPCError } from '@trpc/server';
import { createExpressMiddleware } from '@trpc/server/adapters/express';
import type { Handler } from 'express';
import { MAX_BATCH_SIZE } from '../../shared/jobApi.ts';
import type { Logger } from '../logger.ts';
import { retryAfterSeconds } from '../security/rateLimitedError.ts';
import { createSubscriptionLimiter } from '../security/subscriptionLimiter.ts';
import { createRecordUserSeen } from '../users/recordUserSeen.ts';
import { createContext, type Context, type CreateContextOptions } from './context.ts';
import { appRouter } from './root.ts';

/** Largest request body tRPC reads, in bytes (413 PAYLOAD_TOO_LARGE beyond). */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The tRPC router as Express middleware, to mount at `/trpc`. Mount it before any
 * `express.json()`: tRPC reuses a pre-parsed `req.body`, which would bypass `maxBodySize`.
 */
export function createTrpcMiddleware(options: CreateContextOptions): Handler {
  return createExpressMiddleware({
    router: appRouter,
    // One user directory writer per app, so its throttle outlives requests.
    createContext: createContext({
      ...options,
      recordUserSeen: options.recordUserSeen ?? createRecordUserSeen({ db: options.deps.db, log: options.log }),
      // Capped by default (DEFAULT_SUBSCRIPTION_LIMITS): this is the surface anyone with a token reaches.
      subscriptions: options.subscriptions === undefined ? createSubscriptionLimiter() : options.subscriptions,
    }),
    maxBodySize: MAX_BODY_BYTES,
    maxBatchSize: MAX_BATCH_SIZE,
    responseMeta: ({ errors }) => {
      // tRPC replaces the Vary header the CORS middleware set; appending keeps caches per-origin.
      const headers: Record<string, string | string[]> = { vary: ['Origin'] };
      // A rate-limited call tells the client when to come back (OWASP REST: 429 + Retry-After).
      const retryAfter = retryAfterSeconds(errors.map((e) => e.cause));
      if (retryAfter) headers['retry-after'] = retryAfter;
      return { headers };
    },
    onError: ({ error, path, type, ctx }) => logTrpcError({ error, path, type, ctx, log: options.log }),
  });
}

/**
 * Logs a procedure error once: unexpected ones with their real cause (clients only ever see a
 * generic message), refused access as a warning, and ordinary client errors at debug level.
 */
export function logTrpcError(opts: { error: TRPCError; path: string | undefined; type: string; ctx: Context | undefined; log: Logger }): void {
  const log = opts.ctx?.log ?? opts.log;
  const fields = { path: opts.path, type: opts.type, code: opts.error.code };
  const { code } = opts.error;
  if (code === 'INTERNAL_SERVER_ERROR') log.error({ ...fields, err: opts.error.cause ?? opts.error }, '[trpc] Procedure failed unexpectedly');
  else if (code === 'UNAUTHORIZED' || code === 'FORBIDDEN') log.warn({ ...fields, reason: opts.error.message }, '[trpc] Access refused');
  else log.debug({ ...fields, reason: opts.error.message }, '[trpc] Procedure rejected the request');
}
