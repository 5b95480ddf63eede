import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createJobsClient, type JobsClient } from '../../client/createJobsClient.ts';
import { signToken } from '../../server/auth/token.ts';
import { startServer, type RunningServer, type ServerConfig } from '../../server/startServer.ts';
import { createTestDatabaseTarget, type TestDatabaseTarget } from './testDatabase.ts';

export const TEST_AUTH_SECRET = 'test-secret-0123456789abcdef0123456789';

export interface TestServer {
  server: RunningServer;
  target: TestDatabaseTarget;
  mailboxDir: string;
  /** A typed client authenticated as this caller. */
  client(caller?: { userId?: string; organizationId?: number; role?: 'member' | 'admin' }): Promise<JobsClient>;
  token(caller?: { userId?: string; organizationId?: number; role?: 'member' | 'admin' }): Promise<string>;
  stop(): Promise<void>;
}

/**
 * The whole system as `npm start` runs it, on this test file's own database, with the embedded
 * broker on a free port, a fast sweeper and a fast retry backoff.
 */
export async function startTestServer(overrides: Partial<ServerConfig> = {}): Promise<TestServer> {
  const target = await createTestDatabaseTarget();
  const mailboxDir = mkdtempSync(join(tmpdir(), 'jobwire-mailbox-'));
  const filesDir = mkdtempSync(join(tmpdir(), 'jobwire-files-'));
  const server = await startServer({
    port: 0,
    database: target.pglite ? { pglite: target.pglite } : { url: target.url },
    qstash: { embedded: { port: 0 } },
    authSecret: TEST_AUTH_SECRET,
    email: { from: 'jobwire <noreply@jobwire.test>', mailboxDir },
    log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    sweeper: { intervalMs: 100, publishGraceMs: 300, overdueMs: 60_000 },
    backoff: () => 150,
    drainTimeoutMs: 1_000,
    filesDir,
    // Off by default so schedule listings hold only what a test created; the restart test turns it on.
    defaultSchedules: false,
    ...overrides,
  }).catch(async (error: unknown) => {
    await target.drop();
    rmSync(mailboxDir, { recursive: true, force: true });
    rmSync(filesDir, { recursive: true, force: true });
    throw error;
  });
  const token = (caller: { userId?: string; organizationId?: number; role?: 'member' | 'admin' } = {}) =>
    signToken({ userId: caller.userId ?? '1', organizationId: caller.organizationId ?? 1, role: caller.role ?? 'admin' }, TEST_AUTH_SECRET);
  return {
    server,
    target,
    mailboxDir,
    token,
    async client(caller) {
      return createJobsClient({ url: `${server.url}/trpc`, token: await token(caller) });
    },
    async stop() {
      await server.stop();
      await target.drop();
      rmSync(mailboxDir, { recursive: true, force: true });
      rmSync(filesDir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns a truthy value. */
export async function waitFor<T>(check: () => Promise<T> | T, { timeout = 15_000, interval = 50 } = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`waitFor timed out after ${timeout} ms`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** The tRPC error code of a rejected call (`BAD_REQUEST`, `NOT_FOUND`, …). */
export function trpcCode(error: unknown): string | undefined {
  return (error as { data?: { code?: string } } | undefined)?.data?.code;
}
