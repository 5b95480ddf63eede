/**
 * A router built from the real tRPC root (`trpc.ts`: formatter, procedures, error mapping)
 * whose procedures need no database, and a helper serving any router over real HTTP with the
 * real context factory.
 */
import { createTokenVerifier } from '../../server/auth/token.ts';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createExpressMiddleware } from '@trpc/server/adapters/express';
import type { AnyRouter } from '@trpc/server';
import express from 'express';
import pino from 'pino';
import { z } from 'zod';
import type { JobsDeps } from '../../server/jobs/deps.ts';
import { InvalidTransitionError, JobError, JobNotFoundError, JobValidationError } from '../../server/jobs/errors.ts';
import { createContext } from '../../server/trpc/context.ts';
import { adminProcedure, protectedProcedure, publicProcedure, router } from '../../server/trpc/trpc.ts';
import { logTrpcError } from '../../server/trpc/trpcMiddleware.ts';

export const TEST_SECRET = 'trpc-test-secret-0123456789abcdef-012';

export const testRouter = router({
  boom: publicProcedure.query(() => {
    throw new Error('relation "secret_table" does not exist at /srv/app/db.ts:42');
  }),
  echo: publicProcedure.input(z.object({ name: z.string().min(2), count: z.number().int() })).mutation(({ input }) => input),
  whoami: protectedProcedure.query(({ ctx }) => ({ caller: ctx.caller, scope: ctx.scope, requestId: ctx.requestId })),
  adminOnly: adminProcedure.query(() => 'ok'),
  fail: publicProcedure.input(z.enum(['validation', 'notFound', 'scheduleNotFound', 'transition', 'unknownType', 'rateLimited', 'publish'])).query(({ input }) => {
    switch (input) {
      case 'validation':
        throw new JobValidationError('Invalid payload', [{ path: ['to'], message: 'Invalid email address' }, { path: [], message: 'root problem' }]);
      case 'notFound':
        throw new JobNotFoundError('job', '00000000-0000-4000-8000-000000000000');
      case 'scheduleNotFound':
        throw new JobNotFoundError('schedule', 'nightly');
      case 'transition':
        throw new InvalidTransitionError('Job is processing; only failed or cancelled jobs can be retried');
      case 'unknownType':
        throw new JobError('Unknown job type "nope"', 'UNKNOWN_JOB_TYPE');
      case 'rateLimited':
        throw new JobError('Slow down', 'RATE_LIMITED');
      case 'publish':
        throw new JobError('qstash said 500 with token abc', 'PUBLISH_FAILED');
    }
  }),
  ticks: protectedProcedure.input(z.object({ count: z.number().int().max(10) })).subscription(async function* ({ ctx, input }) {
    for (let i = 1; i <= input.count; i++) yield { i, organizationId: ctx.scope.organizationId };
  }),
});
export type TestRouter = typeof testRouter;

// The test procedures never touch the jobs domain.
export const NO_DEPS = {} as JobsDeps;

export interface ServedRouter {
  url: string;
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

/** Serves `appRouter` (or any router on the same root) at `<url>` over real HTTP. */
export async function serveRouter(appRouter: AnyRouter, deps: JobsDeps = NO_DEPS): Promise<ServedRouter> {
  const logs: Record<string, unknown>[] = [];
  const log = pino({ level: 'trace' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const app = express();
  app.use(
    '/trpc',
    createExpressMiddleware({
      router: appRouter,
      createContext: createContext({ deps, verifyToken: createTokenVerifier({ secret: TEST_SECRET }), log }),
      maxBodySize: 1024 * 1024,
      maxBatchSize: 50,
      onError: ({ error, path, type, ctx }) => logTrpcError({ error, path, type, ctx, log }),
    }),
  );
  const server = createServer(app).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo; // a TCP listener always has an AddressInfo
  return {
    url: `http://127.0.0.1:${port}/trpc`,
    logs,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
