import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, TRPCClientError } from '@trpc/client';
import { EventSource } from 'eventsource';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { signToken } from '../../server/auth/token.ts';
import { createInnerContext } from '../../server/trpc/context.ts';
import { createCallerFactory } from '../../server/trpc/trpc.ts';
import { NO_DEPS, serveRouter, TEST_SECRET, testRouter, type ServedRouter, type TestRouter } from './testRouter.ts';

const member = { userId: '5', organizationId: 3, role: 'member' } as const;
const admin = { userId: '1', organizationId: 3, role: 'admin' } as const;

let served: ServedRouter;
beforeAll(async () => {
  served = await serveRouter(testRouter);
});
afterAll(() => served.close());

function client(token?: string) {
  const auth = token ? { authorization: `Bearer ${token}` } : undefined;
  return createTRPCClient<TestRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({ url: served.url, transformer: superjson, EventSource, connectionParams: token ? { token } : null }),
        false: httpBatchLink({ url: served.url, transformer: superjson, ...(auth ? { headers: auth } : {}) }),
      }),
    ],
  });
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail('expected the call to fail'),
    (error: unknown) => {
      expect(error).toBeInstanceOf(TRPCClientError);
      return error as TRPCClientError<TestRouter>;
    },
  );

describe('error formatter over HTTP', () => {
  it('hides unexpected errors: INTERNAL_SERVER_ERROR, a generic message, no stack; the cause is logged', async () => {
    const error = await failure(client().boom.query());
    expect(error.data).toMatchObject({ code: 'INTERNAL_SERVER_ERROR', httpStatus: 500, zodError: null, jobwireCode: null });
    expect(error.message).toBe('Internal server error');
    expect(error.data).not.toHaveProperty('stack');
    const raw = await (await fetch(`${served.url}/boom`)).text();
    expect(raw).not.toMatch(/secret_table|db\.ts|stack/);
    const logged = served.logs.find((l) => l.path === 'boom' && l.level === 50);
    expect(JSON.stringify(logged)).toContain('secret_table');
  });

  it('reports a Zod input failure as BAD_REQUEST with flattened fieldErrors', async () => {
    // @ts-expect-error deliberately wrong input
    const error = await failure(client().echo.mutate({ name: 'x', count: 'many' }));
    expect(error.data?.code).toBe('BAD_REQUEST');
    expect(error.data?.jobwireCode).toBe('VALIDATION_ERROR');
    expect(error.data?.zodError?.fieldErrors).toEqual({ name: [expect.any(String)], count: [expect.any(String)] });
    expect(error.data).not.toHaveProperty('stack');
  });

  it('reports a JobValidationError as BAD_REQUEST in the same zodError shape', async () => {
    const error = await failure(client().fail.query('validation'));
    expect(error.data).toMatchObject({ code: 'BAD_REQUEST', jobwireCode: 'VALIDATION_ERROR' });
    expect(error.data?.zodError).toEqual({ formErrors: ['root problem'], fieldErrors: { to: ['Invalid email address'] } });
  });

  it.each([
    ['notFound', 'NOT_FOUND', 404, 'JOB_NOT_FOUND'],
    ['scheduleNotFound', 'NOT_FOUND', 404, 'SCHEDULE_NOT_FOUND'],
    ['transition', 'CONFLICT', 409, 'INVALID_TRANSITION'],
    ['unknownType', 'BAD_REQUEST', 400, 'UNKNOWN_JOB_TYPE'],
    ['rateLimited', 'TOO_MANY_REQUESTS', 429, 'RATE_LIMITED'],
  ] as const)('maps the domain error %s to %s', async (kind, code, httpStatus, jobwireCode) => {
    const error = await failure(client().fail.query(kind));
    expect(error.data).toMatchObject({ code, httpStatus, jobwireCode });
    expect(error.message).not.toBe('Internal server error');
  });

  it('keeps the message of an internal domain error (PUBLISH_FAILED) private too', async () => {
    const error = await failure(client().fail.query('publish'));
    expect(error.data).toMatchObject({ code: 'INTERNAL_SERVER_ERROR', jobwireCode: 'PUBLISH_FAILED' });
    expect(error.message).toBe('Internal server error');
  });
});

describe('authentication', () => {
  it('is UNAUTHORIZED without a token or with an invalid one', async () => {
    expect((await failure(client().whoami.query())).data?.code).toBe('UNAUTHORIZED');
    const forged = await signToken(member, 'some-other-secret-0123456789abcdef');
    expect((await failure(client(forged).whoami.query())).data?.httpStatus).toBe(401);
  });

  it('takes the caller and the tenant scope from the bearer token', async () => {
    const me = await client(await signToken(member, TEST_SECRET)).whoami.query();
    expect(me.caller).toEqual(member);
    expect(me.scope).toEqual({ organizationId: 3 });
    expect(me.requestId).toMatch(/^[\w.-]+$/);
  });

  it('is FORBIDDEN for members on admin procedures', async () => {
    expect((await failure(client(await signToken(member, TEST_SECRET)).adminOnly.query())).data?.code).toBe('FORBIDDEN');
    expect(await client(await signToken(admin, TEST_SECRET)).adminOnly.query()).toBe('ok');
  });

  it('authenticates SSE subscriptions through connectionParams.token', async () => {
    const token = await signToken(member, TEST_SECRET);
    const events = await new Promise<unknown[]>((resolve, reject) => {
      const seen: unknown[] = [];
      const sub = client(token).ticks.subscribe({ count: 2 }, {
        onData: (data) => {
          seen.push(data);
          if (seen.length === 2) {
            sub.unsubscribe();
            resolve(seen);
          }
        },
        onError: reject,
      });
    });
    expect(events).toEqual([{ i: 1, organizationId: 3 }, { i: 2, organizationId: 3 }]);
  });

  it('ignores connectionParams on queries (tokens in URLs are for EventSource only)', async () => {
    const token = await signToken(member, TEST_SECRET);
    const params = encodeURIComponent(JSON.stringify({ token }));
    const res = await fetch(`${served.url}/whoami?connectionParams=${params}`);
    expect(res.status).toBe(401);
  });
});

describe('createCaller', () => {
  const log = pino({ level: 'silent' });
  const call = createCallerFactory(testRouter);

  it('runs the same procedures and middlewares in-process', async () => {
    await expect(call(createInnerContext({ deps: NO_DEPS, log, caller: null })).whoami()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(call(createInnerContext({ deps: NO_DEPS, log, caller: member })).adminOnly()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(call(createInnerContext({ deps: NO_DEPS, log, caller: null })).fail('notFound')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await call(createInnerContext({ deps: NO_DEPS, log, caller: member, requestId: 'r-1' })).whoami()).requestId).toBe('r-1');
  });
});
