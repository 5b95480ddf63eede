/**
 * A start that cannot succeed exits 1 and says, on stderr, which variable to change: PORT, HOST,
 * QSTASH_DEV_PORT, DATABASE_URL. The compiled server (as `npm start` runs it), spawned.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compiledCheckout, startJobwire, throwawayEnv } from './jobwireProcess.ts';

let checkout: Awaited<ReturnType<typeof compiledCheckout>>;
let base: Awaited<ReturnType<typeof throwawayEnv>>;
let held: Server;
let heldPort: number;

beforeAll(async () => {
  held = createServer();
  await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
  heldPort = (held.address() as { port: number }).port; // a TCP listener's address
  [checkout, base] = await Promise.all([compiledCheckout('startup-errors'), throwawayEnv()]);
}, 120_000);

afterAll(async () => {
  held?.close();
  await base?.drop();
  checkout?.remove();
});

/** Starts jobwire on this file's database (runs one after another share it) with `env` on top; resolves once it exits. */
async function failedStart(env: Record<string, string>): Promise<{ code: number | null; stderr: string; output: string }> {
  const child = startJobwire([checkout.main], { cwd: base.dataDir, env: { ...base.env, ...env } });
  // A start that succeeds is stopped and reported as code -1.
  const started = await child.ready().then(async () => (await child.stop(), true), () => false);
  return { code: started ? -1 : await child.exited, stderr: child.stderr(), output: child.output() };
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('start-up errors name what to change', () => {
  it('PORT in use', async () => {
    const result = await failedStart({ PORT: String(heldPort) });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`jobwire could not start: port ${heldPort} on 127.0.0.1 is already in use`);
    expect(result.stderr).toMatch(/set PORT to a free port.*HOST/);
    expect(result.output).not.toContain('jobwire is running');
  }, 120_000);

  it('the embedded broker’s QSTASH_DEV_PORT in use', async () => {
    const result = await failedStart({ PORT: '0', QSTASH_DEV_PORT: String(heldPort) });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`the embedded QStash broker's port ${heldPort} on 127.0.0.1 is already in use`);
    expect(result.stderr).toMatch(/set QSTASH_DEV_PORT to a free port.*QSTASH_URL and QSTASH_TOKEN/);
  }, 120_000);

  it('HOST that is not an address of this machine', async () => {
    // 192.0.2.1 is TEST-NET-1: binding to it fails at once, and nothing is sent anywhere.
    const result = await failedStart({ HOST: '192.0.2.1' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('HOST=192.0.2.1 is not an address of this machine: set HOST to 127.0.0.1');
  }, 120_000);

  it.each([
    ['HOST with a scheme', { HOST: 'http://0.0.0.0' }, /HOST: "http:\/\/0\.0\.0\.0" is not an address to listen on/],
    ['HOST with a port', { HOST: '0.0.0.0:3000' }, /HOST: "0\.0\.0\.0:3000" is not an address to listen on: .*without scheme or port/],
    ['PORT equal to QSTASH_DEV_PORT', { PORT: '3999', QSTASH_DEV_PORT: '3999' }, /PORT, QSTASH_DEV_PORT: both are 3999/],
  ])('%s: refused before anything opens', async (_name, env, message) => {
    const result = await failedStart(env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('jobwire could not start: Invalid environment');
    expect(result.stderr).toMatch(message);
  }, 60_000);

  it('DATABASE_URL unreachable, without showing its password', async () => {
    const port = await closedPort();
    const result = await failedStart({ DATABASE_URL: `postgres://jobwire:hunter2-secret@127.0.0.1:${port}/jobwire`, DATABASE_STARTUP_TIMEOUT: '1' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`the PostgreSQL server at postgres://jobwire:***@127.0.0.1:${port}/jobwire is unreachable after retrying for 1 s (DATABASE_STARTUP_TIMEOUT)`);
    expect(result.stderr).toContain('check DATABASE_URL');
    expect(result.output).not.toContain('hunter2-secret');
  }, 120_000);

  it('DATABASE_URL naming a database the server does not have', async () => {
    const result = await failedStart({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/jobwire_no_such_database' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/the PostgreSQL server at postgres:\/\/postgres@127\.0\.0\.1:5432\/jobwire_no_such_database refused the connection \(.*does not exist\): check DATABASE_URL/);
  }, 120_000);
});
