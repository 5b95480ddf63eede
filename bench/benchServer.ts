// What the benchmarks that run the whole server share: one way to start it and sign a caller's token.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { signToken, type Caller } from '../server/auth/token.ts';
import { createPglite } from '../server/db/database.ts';
import { startServer, type RunningServer, type ServerConfig } from '../server/startServer.ts';

/** The auth secret of every bench server. */
export const BENCH_SECRET = 'bench-secret-0123456789abcdef0123456789';

/** The whole server on a fresh PGlite, or on `postgres` (a scratch database URL), with the embedded broker. */
export async function startBenchServer(postgres: string | undefined, overrides: Partial<ServerConfig> = {}): Promise<RunningServer> {
  return startServer({
    port: 0,
    database: postgres ? { url: postgres } : { pglite: await createPglite() },
    qstash: { embedded: { port: 0 } },
    authSecret: BENCH_SECRET,
    email: { from: 'bench <b@jobwire.test>', mailboxDir: mkdtempSync(join(tmpdir(), 'bench-mail-')) },
    log: pino({ level: 'warn' }),
    ...overrides,
  });
}

/** A token the bench server accepts. */
export const benchToken = (caller: Caller) => signToken(caller, BENCH_SECRET);
