import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { TRPCRequestInfo } from '@trpc/server/http';
import type { Caller, TokenVerifier } from '../auth/token.ts';
import type { FilesDeps } from '../files/filesDeps.ts';
import type { JobsDeps } from '../jobs/deps.ts';
import type { Logger } from '../logger.ts';
import type { RateLimiter } from '../security/rateLimiter.ts';
import type { SubscriptionLimiter } from '../security/subscriptionLimiter.ts';
import type { RecordUserSeen } from '../users/recordUserSeen.ts';

/** What every procedure gets. `caller` is null until `protectedProcedure` proves otherwise. */
export interface Context {
  deps: JobsDeps;
  caller: Caller | null;
  requestId: string;
  /** Child of the root logger bound to this request (`requestId`, and the caller once verified). */
  log: Logger;
  /** Per-organization limit of `jobs.enqueue` and `jobs.schedule`; null: unlimited. */
  enqueueLimiter: RateLimiter | null;
  /** Caps on the open `jobs.onStatus` / `jobs.onEvents` streams; null: uncapped (in-process callers). */
  subscriptions: SubscriptionLimiter | null;
  /** Generated files (`files.*`); undefined on a server without file storage. */
  files: FilesDeps | undefined;
}

export interface CreateContextOptions {
  deps: JobsDeps;
  log: Logger;
  /** `createTokenVerifier(...)`: HS256 with AUTH_SECRET, and the JWKS when configured. Built once per app. */
  verifyToken: TokenVerifier;
  enqueueLimiter?: RateLimiter | null | undefined;
  /** One per app (`createSubscriptionLimiterFor`), so its counts span requests. Default: uncapped. */
  subscriptions?: SubscriptionLimiter | null | undefined;
  files?: FilesDeps | undefined;
  /** Records each verified caller in the user directory (`createRecordUserSeen`, throttled). Default none. */
  recordUserSeen?: RecordUserSeen | undefined;
}

/** The part of the adapter's options the context reads (the Express adapter passes more). */
export interface ContextRequest {
  req: { headers: IncomingHttpHeaders };
  info: Pick<TRPCRequestInfo, 'type' | 'connectionParams'>;
}

/** A context for a known caller, without HTTP: `createCaller` in tests and server code. */
export function createInnerContext(opts: {
  deps: JobsDeps;
  log: Logger;
  caller: Caller | null;
  requestId?: string;
  enqueueLimiter?: RateLimiter | null | undefined;
  subscriptions?: SubscriptionLimiter | null | undefined;
  files?: FilesDeps | undefined;
}): Context {
  const requestId = opts.requestId ?? randomUUID();
  const who = opts.caller ? { userId: opts.caller.userId, organizationId: opts.caller.organizationId } : {};
  const log = opts.log.child({ requestId, ...who });
  return { deps: opts.deps, caller: opts.caller, requestId, log, enqueueLimiter: opts.enqueueLimiter ?? null, subscriptions: opts.subscriptions ?? null, files: opts.files };
}

/**
 * The `createContext` the HTTP adapter calls per request. The caller comes from
 * `Authorization: Bearer <jwt>`, or for SSE subscriptions (EventSource cannot send headers)
 * from `connectionParams.token`. An invalid token is treated as no token.
 */
export function createContext({ deps, log, verifyToken, enqueueLimiter, subscriptions, files, recordUserSeen }: CreateContextOptions) {
  return async ({ req, info }: ContextRequest): Promise<Context> => {
    const token = bearerToken(req.headers.authorization) ?? subscriptionToken(info);
    const caller = token ? await verifyToken(token) : null;
    if (caller) void recordUserSeen?.(caller); // not awaited: the request never waits for (or fails on) the directory
    return createInnerContext({ deps, log, caller, requestId: requestIdOf(req.headers), enqueueLimiter, subscriptions, files });
  };
}

function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer[ ]+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(header ?? '');
  return match?.[1] ?? null;
}

// Query-string tokens end up in access logs, so only subscriptions, which have no other way, may use them.
function subscriptionToken(info: ContextRequest['info']): string | null {
  if (info.type !== 'subscription') return null;
  const token = info.connectionParams?.token;
  return typeof token === 'string' && token.length > 0 ? token : null;
}

/** A proxy's `X-Request-Id` when it looks like one, else a fresh id. */
function requestIdOf(headers: IncomingHttpHeaders): string {
  const given = headers['x-request-id'];
  return typeof given === 'string' && /^[A-Za-z0-9._-]{1,100}$/.test(given) ? given : randomUUID();
}
