import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../server/startServer.ts';
import { createTestDatabaseTarget, type TestDatabaseTarget } from '../support/testDatabase.ts';
import { TEST_AUTH_SECRET, waitFor } from '../support/testServer.ts';

let target: TestDatabaseTarget;
let mailboxDir: string;
beforeAll(async () => {
  target = await createTestDatabaseTarget();
  mailboxDir = mkdtempSync(join(tmpdir(), 'jobwire-start-failure-'));
});
afterAll(async () => {
  await target?.drop();
  rmSync(mailboxDir, { recursive: true, force: true });
});

const listen = (port = 0) =>
  new Promise<Server>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
const close = (server: Server) => new Promise((resolve) => server.close(resolve));
const portOf = (server: Server) => (server.address() as { port: number }).port; // a TCP listener's address

describe('a start that fails halfway', () => {
  it('releases what it had opened: the HTTP port and every database connection', async () => {
    // The embedded broker's port is taken, so the start fails after the database is open,
    // migrated and listened to, and after the HTTP server is listening.
    const taken = await listen();
    const probe = await listen();
    const httpPort = portOf(probe);
    await close(probe);
    try {
      const failed = startServer({
        port: httpPort,
        database: target.pglite ? { pglite: target.pglite } : { url: target.url },
        qstash: { embedded: { port: portOf(taken) } },
        authSecret: TEST_AUTH_SECRET,
        email: { from: 'x <x@jobwire.test>', mailboxDir },
        log: pino({ level: 'silent' }),
        defaultSchedules: false,
      });
      await expect(failed).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await close(taken);
    }

    // The HTTP port is free again.
    await close(await listen(httpPort));
    if (target.url) {
      // No connection of the failed start is left on its database (the pool, the LISTEN one).
      const admin = postgres(target.url, { max: 1, onnotice: () => {} });
      try {
        const others = async () => (await admin`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)[0]!.n as number;
        await waitFor(async () => (await others()) === 0, { timeout: 5_000 });
      } finally {
        await admin.end();
      }
    } else {
      // The caller's PGlite stays open (the caller owns it) and usable.
      expect(target.pglite!.closed).toBe(false);
      expect((await target.pglite!.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    }
  });
});
