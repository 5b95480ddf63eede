import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatedServer } from '../../server/security/httpServer.ts';
import { startServer } from '../../server/startServer.ts';
import { createTestDatabaseTarget, type TestDatabaseTarget } from '../support/testDatabase.ts';
import { startTestServer, TEST_AUTH_SECRET, waitFor } from '../support/testServer.ts';

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

/** A free port: listen on 0, note it, close. */
const freePort = async () => {
  const probe = await listen();
  const port = portOf(probe);
  await close(probe);
  return port;
};

const config = (port: number, brokerPort: number) => ({
  port,
  database: target.pglite ? { pglite: target.pglite } : { url: target.url },
  qstash: { embedded: { port: brokerPort } },
  authSecret: TEST_AUTH_SECRET,
  email: { from: 'x <x@jobwire.test>', mailboxDir },
  log: pino({ level: 'silent' }),
  defaultSchedules: false,
});

/** No database connection of a failed start is left (postgres), or the caller's PGlite still works. */
async function expectDatabaseReleased(): Promise<void> {
  if (!target.url) {
    expect((await target.pglite!.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]); // set for the pglite project
    return;
  }
  const admin = postgres(target.url, { max: 1, onnotice: () => {} });
  try {
    const others = async () => (await admin`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)[0]!.n as number;
    await waitFor(async () => (await others()) === 0, { timeout: 5_000 });
  } finally {
    await admin.end();
  }
}

describe('a start whose HTTP port is taken', () => {
  it('fails with EADDRINUSE before the broker starts, and releases the database', async () => {
    const taken = await listen();
    const brokerPort = await freePort();
    try {
      await expect(startServer(config(portOf(taken), brokerPort))).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await close(taken);
    }
    await close(await listen(brokerPort)); // the broker never bound its port
    await expectDatabaseReleased();
  });
});

/** GET /healthz: its status, `refused` when nothing listens, `hung` when no answer comes within 3 s. */
const probe = (port: number) =>
  new Promise<string>((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => (res.resume(), resolve(String(res.statusCode))));
    req.setTimeout(3_000, () => (req.destroy(), resolve('hung')));
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED' ? 'refused' : (error.code ?? 'error')));
  });

describe('start-up', () => {
  it('while the app is not attached (port 0 listens early, to learn its URL), requests get 503 with Retry-After', async () => {
    const gate = createGatedServer();
    const port = await gate.listen(0, '127.0.0.1');
    try {
      const starting = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect([starting.status, starting.headers.get('retry-after')]).toEqual([503, '1']);
      gate.open((_req, res) => res.end('up'));
      expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).text()).toBe('up');
    } finally {
      await gate.close();
    }
  });

  it('a request that reaches the port while the server starts is answered or refused at once, never left hanging', async () => {
    const port = await freePort();
    const outcomes: string[] = [];
    let starting = true;
    // Several probes in flight, so some are waiting whenever the starting server looks at its sockets.
    const probing = Promise.all(
      Array.from({ length: 8 }, async () => {
        while (starting) {
          outcomes.push(await probe(port));
          await new Promise((r) => setTimeout(r, 5));
        }
      }),
    );
    const started = await startTestServer({ port }).finally(() => (starting = false));
    try {
      await probing;
      outcomes.push(await probe(port));
      expect(outcomes.filter((o) => o !== 'refused' && o !== '200' && o !== '503')).toEqual([]);
      expect(outcomes.at(-1)).toBe('200');
    } finally {
      await started.stop();
    }
  });
});
