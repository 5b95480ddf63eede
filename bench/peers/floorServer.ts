// The tRPC floor: jobwire has no procedure that touches no database, so the benchmark serves one of
// its own, built from jobwire's own pieces: its tRPC instance (`protectedProcedure`: the superjson
// input transformer, the error formatter and the auth middlewares), its per-request context
// (`createContext`: bearer token verified with the server's verifier, request id, child logger) and
// `jobs.enqueue`'s input schema, on Express with the same tRPC adapter options. The procedure
// validates the input like `jobs.enqueue` and answers like it, without a database.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createExpressMiddleware } from '@trpc/server/adapters/express';
import express from 'express';
import { EnqueueInput, MAX_BATCH_SIZE } from '../../shared/jobApi.ts';
import { createTokenVerifier } from '../../server/auth/token.ts';
import type { JobsDeps } from '../../server/jobs/deps.ts';
import { createContext } from '../../server/trpc/context.ts';
import { protectedProcedure, router } from '../../server/trpc/trpc.ts';
import { MAX_BODY_BYTES } from '../../server/trpc/trpcMiddleware.ts';

export const floorRouter = router({
  bench: router({
    floor: protectedProcedure.input(EnqueueInput).mutation(() => ({ jobId: randomUUID(), deduplicated: false })),
  }),
});
export type FloorRouter = typeof floorRouter;

/** Serves `bench.floor` at `<url>/trpc`; `deps` are the running server's (the procedure reads none of them). */
export async function startFloorServer(deps: JobsDeps, authSecret: string): Promise<{ url: string; close(): Promise<void> }> {
  const app = express();
  app.disable('x-powered-by');
  app.use(
    '/trpc',
    createExpressMiddleware({
      router: floorRouter,
      createContext: createContext({ deps, log: deps.log, verifyToken: createTokenVerifier({ secret: authSecret }) }),
      maxBodySize: MAX_BODY_BYTES,
      maxBatchSize: MAX_BATCH_SIZE,
    }),
  );
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo; // a TCP server's address is an AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
