/**
 * `/readyz` during start-up: the port answers (behind the start-up gate) before start-up has
 * finished; until it has (broker known, sweeper started, default schedules in place) the instance
 * is not ready, so a load balancer sends it no traffic during a rolling restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer } from '../../server/startServer.ts';
import { freePort } from '../support/freePort.ts';
import { createTestDatabaseTarget } from '../support/testDatabase.ts';
import { TEST_AUTH_SECRET, waitFor } from '../support/testServer.ts';

const target = await createTestDatabaseTarget();
const dir = mkdtempSync(join(tmpdir(), 'jobwire-readiness-'));

/** A stand-in for QStash that holds the default schedule's registration until released. */
let release!: () => void;
const released = new Promise<void>((resolve) => (release = resolve));
let scheduleRequests = 0;
const broker = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
  req.resume();
  req.on('end', () => {
    if (req.method === 'GET' && req.url?.startsWith('/v2/schedules/')) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"schedule not found"}');
    if (req.method === 'POST' && req.url?.startsWith('/v2/schedules/')) {
      scheduleRequests++;
      return void released.then(() => res.writeHead(201, { 'content-type': 'application/json' }).end('{"scheduleId":"jobwire-cleanup-daily"}'));
    }
    res.writeHead(200).end();
  });
});
await new Promise<void>((resolve) => broker.listen(0, '127.0.0.1', resolve));
const brokerUrl = `http://127.0.0.1:${(broker.address() as { port: number }).port}`;

afterAll(async () => {
  release();
  broker.close();
  await target.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('/readyz while the server starts', () => {
  it('answers 503 "starting" until start-up finished, then ready', async () => {
    const port = await freePort();
    const starting = startServer({
      port,
      database: target.pglite ? { pglite: target.pglite } : { url: target.url },
      qstash: { baseUrl: brokerUrl, token: 'test-token', signingKeys: { current: 'sig_current_0123456789', next: 'sig_next_0123456789' } },
      authSecret: TEST_AUTH_SECRET,
      email: { mailboxDir: join(dir, 'mailbox') },
      filesDir: join(dir, 'files'),
      log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
      sweeper: { intervalMs: 3_600_000 },
      drainTimeoutMs: 1_000,
    });
    // The port is bound and the app attached; start-up now waits on the broker for the default schedule.
    await waitFor(() => scheduleRequests > 0);
    const during = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(during.status).toBe(503);
    expect(await during.json()).toMatchObject({ status: 'unavailable', reason: 'starting', checks: { database: true, migrations: true, broker: true } });
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200); // the process is up all along

    release();
    const server = await starting;
    try {
      const after = await fetch(`${server.url}/readyz`);
      expect(after.status).toBe(200);
      expect(await after.json()).toEqual({ status: 'ready', checks: { database: true, migrations: true, broker: true } });
    } finally {
      await server.stop();
    }
  });
});
