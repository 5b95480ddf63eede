import type { Caller } from '../auth/token.ts';
import { jobMetrics } from '../metrics/jobMetrics.ts';
import { logSecurityEvent, SECURITY_EVENTS } from '../security/securityEvent.ts';
import type { Context } from './context.ts';
import { apiError } from './errors.ts';

const WHOSE = { user: 'this user', organization: 'this organization', global: 'this server' } as const;

/**
 * Runs a live stream in one of the caller's subscription slots (`ctx.subscriptions`): over a cap,
 * TOO_MANY_REQUESTS / TOO_MANY_SUBSCRIPTIONS before anything starts. The slot is freed when the
 * stream ends, fails or is returned, or when the client leaves (the request's signal), whichever
 * comes first: a stream the client dropped before its first read never runs its `finally`.
 */
export function inSubscriptionSlot<T>(
  ctx: Pick<Context, 'subscriptions' | 'log'> & { caller: Caller },
  call: { path: string; signal: AbortSignal | undefined },
  stream: () => AsyncIterable<T>,
): AsyncIterable<T> {
  const grant = ctx.subscriptions?.acquire(ctx.caller);
  if (grant && !grant.ok) {
    if (grant.firstRefusal) {
      const fields = { path: call.path, level: grant.level, max: grant.max, organizationId: ctx.caller.organizationId, userId: ctx.caller.userId };
      logSecurityEvent(ctx.log, SECURITY_EVENTS.subscriptionLimited, fields, '[security] Subscription limit reached');
    }
    throw apiError('TOO_MANY_SUBSCRIPTIONS', `Too many live subscriptions open for ${WHOSE[grant.level]} (at most ${grant.max}); close one first`);
  }
  const closed = jobMetrics.subscriptionOpened(); // once-only: the stream's end and the client leaving may both call release
  const { signal } = call;
  const release = () => {
    signal?.removeEventListener('abort', release);
    closed();
    grant?.release();
  };
  if (signal?.aborted) release();
  else signal?.addEventListener('abort', release, { once: true });
  return (async function* () {
    try {
      yield* stream();
    } finally {
      release();
    }
  })();
}
