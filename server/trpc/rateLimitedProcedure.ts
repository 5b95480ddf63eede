import { TRPCError } from '@trpc/server';
import { RateLimitedError } from '../security/rateLimitedError.ts';
import { logSecurityEvent, SECURITY_EVENTS } from '../security/securityEvent.ts';
import { protectedProcedure } from './trpc.ts';

/**
 * `protectedProcedure` plus the caller organization's enqueue rate limit (`ctx.enqueueLimiter`),
 * for `jobs.enqueue` and `jobs.schedule` (schedule firings spend the same bucket): over it,
 * `TOO_MANY_REQUESTS` / `RATE_LIMITED` with `Retry-After` (set in `responseMeta`). Every attempt
 * counts, valid or not, and other organizations are unaffected.
 */
export const rateLimitedProcedure = protectedProcedure.use(async ({ ctx, next, path }) => {
  const limiter = ctx.enqueueLimiter;
  if (!limiter) return next();
  const decision = await limiter.take(String(ctx.caller.organizationId));
  if (decision.allowed) return next();
  if (decision.firstRefusal) {
    const { tokens, perMs } = limiter.limit;
    logSecurityEvent(
      ctx.log,
      SECURITY_EVENTS.rateLimited,
      { path, organizationId: ctx.caller.organizationId, userId: ctx.caller.userId, limit: `${tokens}/${perMs}ms`, retryAfterMs: decision.retryAfterMs },
      '[security] Enqueue rate limit reached',
    );
  }
  const cause = new RateLimitedError(decision.retryAfterMs);
  throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: cause.message, cause });
});
