import { TRPCError } from '@trpc/server';
import { RateLimitedError } from '../security/rateLimitedError.ts';
import { logSecurityEvent, SECURITY_EVENTS } from '../security/securityEvent.ts';
import type { Context } from './context.ts';
import { protectedProcedure } from './trpc.ts';

/**
 * Spends `count` of the caller organization's enqueue budget (`ctx.enqueueLimiter`): over it,
 * `TOO_MANY_REQUESTS` / `RATE_LIMITED` with `Retry-After` (set in `responseMeta`). Other
 * organizations are unaffected. `jobs.enqueueMany` spends one per item.
 */
export async function spendEnqueueBudget(ctx: Context & { caller: NonNullable<Context['caller']> }, path: string, count = 1): Promise<void> {
  const limiter = ctx.enqueueLimiter;
  if (!limiter) return;
  const decision = await limiter.take(String(ctx.caller.organizationId), count);
  if (decision.allowed) return;
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
}

/**
 * `protectedProcedure` plus the caller organization's enqueue rate limit, for `jobs.enqueue` and
 * `jobs.schedule` (schedule firings spend the same bucket). Every attempt counts, valid or not.
 */
export const rateLimitedProcedure = protectedProcedure.use(async ({ ctx, next, path }) => {
  await spendEnqueueBudget(ctx, path);
  return next();
});
