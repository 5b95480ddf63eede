/**
 * The tRPC root (create-t3-app shape): error formatter, procedures and the domain-error
 * mapping every procedure runs through.
 */
import { initTRPC, TRPCError } from '@trpc/server';
import { z } from 'zod';
import { ALL_ORGANIZATIONS, type Scope } from '../jobs/scope.ts';
import { toError } from '../jobs/errors.ts';
import { recordOperatorAction } from '../ops/auditLog.ts';
import { isNotFoundError, reportCrossTenant } from '../security/reportCrossTenant.ts';
import type { Context } from './context.ts';
import { inputTransformer } from './inputTransformer.ts';
import { flattenedIssuesOf, jobwireCodeOf, mapDomainError } from './errors.ts';

/** The only message clients see for an unexpected error; the cause goes to the logs. */
export const INTERNAL_ERROR_MESSAGE = 'Internal server error';

const t = initTRPC.context<Context>().create({
  transformer: inputTransformer,
  // Explicit in every NODE_ENV: tRPC's default adds stacks whenever NODE_ENV !== 'production'.
  isDev: false,
  sse: {
    ping: { enabled: true, intervalMs: 15_000 },
    // Clients reconnect when even two pings were missed (a silently dropped connection).
    client: { reconnectAfterInactivityMs: 35_000 },
  },
  errorFormatter({ shape, error }) {
    const { stack: _stack, ...data } = shape.data;
    const internal = error.code === 'INTERNAL_SERVER_ERROR';
    const message = internal ? INTERNAL_ERROR_MESSAGE : error.cause instanceof z.ZodError ? z.prettifyError(error.cause) : shape.message;
    return {
      ...shape,
      message,
      data: {
        ...data,
        /** `z.flattenError` of the input's issues; BAD_REQUEST only. */
        zodError: error.code === 'BAD_REQUEST' ? flattenedIssuesOf(error) : null,
        /** The shared error code clients switch on (`shared/errors.ts`), when there is one. */
        jobwireCode: jobwireCodeOf(error),
      },
    };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Turns domain errors (`JobError` and subclasses) into their tRPC codes; runs outermost. */
const mapDomainErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok) throw mapDomainError(result.error);
  return result;
});

export const publicProcedure = t.procedure.use(mapDomainErrors);

/**
 * Needs a valid bearer token; adds `caller`, the caller's tenant `scope` (its organization) and
 * `jobScope`, the jobs and schedules it may see and act on: its organization, or every
 * organization (and the jobs of none) for an operator. A NOT_FOUND for an id that exists in another organization is
 * logged as `security.cross_tenant` (the answer stays NOT_FOUND). Every mutation an operator
 * calls, allowed or refused, is written to the audit log (`ops.auditLog`).
 */
export const protectedProcedure = t.procedure.use(async ({ ctx, next, path, type, getRawInput }) => {
  // One middleware, not four (authentication, cross-tenant report, audit, domain errors): each
  // tRPC middleware layer copies the call's options and adds a promise, on every call.
  if (!ctx.caller) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'A valid bearer token is required' });
  const caller = ctx.caller;
  const scope = { organizationId: caller.organizationId };
  const jobScope: Scope = caller.role === 'operator' ? ALL_ORGANIZATIONS : scope;
  const result = await next({ ctx: { caller, scope, jobScope } });
  // Domain errors are mapped to tRPC codes last, so NOT_FOUND is still the cause here.
  if (!result.ok && isNotFoundError(result.error.cause)) {
    const input = await getRawInput().catch(() => undefined);
    await reportCrossTenant({ db: ctx.deps.db, log: ctx.log, caller, cause: result.error.cause, input, path });
  }
  if (caller.role === 'operator' && type === 'mutation') {
    const input = await getRawInput().catch(() => undefined);
    const outcome = result.ok ? 'ok' : (jobwireCodeOf(result.error) ?? result.error.code);
    await recordOperatorAction(ctx.deps.db, { caller, action: path, input, result: result.ok ? result.data : undefined, outcome, requestId: ctx.requestId }).catch((error: unknown) =>
      ctx.log.error({ err: toError(error), path }, '[ops] Failed to write the operator audit log'),
    );
  }
  if (!result.ok) throw mapDomainError(result.error);
  return result;
});

/** Needs an admin token. */
export const adminProcedure = protectedProcedure.use(({ ctx, next }) => {
  if (ctx.caller.role !== 'admin') throw new TRPCError({ code: 'FORBIDDEN', message: 'Admin role required' });
  return next();
});

/** Needs an admin (its organization) or an operator (every organization) token. */
export const staffProcedure = protectedProcedure.use(({ ctx, next }) => {
  if (ctx.caller.role !== 'admin' && ctx.caller.role !== 'operator') throw new TRPCError({ code: 'FORBIDDEN', message: 'Admin or operator role required' });
  return next();
});

/** Needs an operator token. */
export const operatorProcedure = protectedProcedure.use(({ ctx, next }) => {
  if (ctx.caller.role !== 'operator') throw new TRPCError({ code: 'FORBIDDEN', message: 'Operator role required' });
  return next();
});
