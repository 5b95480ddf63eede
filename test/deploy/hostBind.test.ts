/**
 * HOST and QSTASH_DEV_HOST: the compiled server (as `npm start` runs it) and the standalone broker
 * (`npm run qstash:dev`) listen where they are told, checked from the kernel's table of listening
 * sockets and by requests to 127.0.0.1 and [::1] only (no traffic to any other address of this machine).
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobsClient } from '../../client/createJobsClient.ts';
import { waitForJob } from '../../client/waitForJob.ts';
import { signToken } from '../../server/auth/token.ts';
import { TEST_DRIVER } from '../support/testDatabase.ts';
import { compiledCheckout, listeningAddresses, REPO, startJobwire, throwawayEnv, type JobwireProcess } from './jobwireProcess.ts';

const AUTH_SECRET = 'host-bind-test-secret-0123456789abcdef';
const TSX = pathToFileURL(join(REPO, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const WILDCARDS = ['0.0.0.0', '::'];

interface Started {
  process: JobwireProcess;
  url: string;
  port: number;
  brokerPort: number;
}

const cleanups: Array<() => Promise<void>> = [];
let checkout: Awaited<ReturnType<typeof compiledCheckout>>;

async function startServer(env: Record<string, string>): Promise<Started> {
  const db = await throwawayEnv();
  const child = startJobwire([checkout.main], { cwd: db.dataDir, env: { ...db.env, AUTH_SECRET, ...env } });
  cleanups.push(async () => (await child.stop(), await db.drop()));
  const url = await child.ready();
  const brokerUrl = /embedded broker at (http:\/\/\S+)/.exec(child.output())![1]!; // printed with the banner
  return { process: child, url, port: Number(new URL(url).port), brokerPort: Number(new URL(brokerUrl).port) };
}

async function startStandaloneBroker(args: string[], env: Record<string, string>): Promise<{ process: JobwireProcess; port: number }> {
  const db = await throwawayEnv();
  const child = startJobwire(['--import', TSX, 'server/broker/cli.ts', '--port', '0', ...args], { cwd: checkout.dir, env: { ...db.env, ...env } });
  cleanups.push(async () => (await child.stop(), await db.drop()));
  const url = await child.waitForOutput(/broker is running at (http:\/\/\S+)/);
  return { process: child, port: Number(new URL(url).port) };
}

/** The status of GET /readyz on a loopback address, or the connection error's code. */
async function answer(host: '127.0.0.1' | '[::1]', port: number, path = '/readyz'): Promise<number | string> {
  try {
    return (await fetch(`http://${host}:${port}${path}`, { signal: AbortSignal.timeout(10_000) })).status;
  } catch (error) {
    return ((error as Error).cause as { code?: string } | undefined)?.code ?? String(error);
  }
}

async function runsAJob(baseUrl: string): Promise<string> {
  const token = await signToken({ userId: '1', organizationId: 1, role: 'admin' }, AUTH_SECRET);
  const client = createJobsClient({ url: `${baseUrl}/trpc`, token });
  const { jobId } = await client.jobs.enqueue.mutate({ type: 'send-email', payload: { to: 'ada@example.com', template: 'welcome', data: { recipientName: 'Ada' } } });
  return (await waitForJob(client, jobId, { timeout: 60_000 })).status;
}

let everywhere: Started;
let loopbackOnly: Started;
let ipv6Only: Started;

beforeAll(async () => {
  checkout = await compiledCheckout('host-bind');
}, 120_000);

afterAll(async () => {
  await Promise.all(cleanups.map((cleanup) => cleanup()));
  checkout?.remove();
});

describe('HOST', () => {
  beforeAll(async () => {
    // One after another: three cold PGlite starts at once can take minutes on a loaded machine.
    everywhere = await startServer({ HOST: '0.0.0.0' });
    loopbackOnly = await startServer({});
    ipv6Only = await startServer({ HOST: '::1', QSTASH_DEV_HOST: '0.0.0.0' });
  }, 540_000);

  it('0.0.0.0 listens on every interface, IPv4 and IPv6: 127.0.0.1 and [::1] both answer', async () => {
    const addresses = listeningAddresses(everywhere.port);
    expect(addresses.length).toBeGreaterThan(0);
    for (const address of addresses) expect(WILDCARDS).toContain(address);
    expect(await answer('127.0.0.1', everywhere.port)).toBe(200);
    expect(await answer('[::1]', everywhere.port)).toBe(200);
    expect(everywhere.process.output()).toContain('Listening on    every interface (HOST=0.0.0.0)');
  });

  it('does not widen the embedded broker, which stays on 127.0.0.1, and jobs still run', async () => {
    expect(listeningAddresses(everywhere.brokerPort)).toEqual(['127.0.0.1']);
    expect(await runsAJob(`http://[::1]:${everywhere.port}`)).toBe('completed');
  }, 90_000);

  it('defaults to 127.0.0.1 only: [::1] is refused', async () => {
    expect(listeningAddresses(loopbackOnly.port)).toEqual(['127.0.0.1']);
    expect(await answer('127.0.0.1', loopbackOnly.port)).toBe(200);
    expect(await answer('[::1]', loopbackOnly.port)).toBe('ECONNREFUSED');
    expect(loopbackOnly.process.output()).toContain('only (HOST=0.0.0.0 for every interface)');
  });

  it('takes one address (::1), with the default PUBLIC_URL on it, and QSTASH_DEV_HOST widens the broker', async () => {
    expect(listeningAddresses(ipv6Only.port)).toEqual(['::1']);
    expect(await answer('127.0.0.1', ipv6Only.port)).toBe('ECONNREFUSED');
    expect(await answer('[::1]', ipv6Only.port)).toBe(200);
    expect(ipv6Only.url).toBe(`http://[::1]:${ipv6Only.port}`);
    for (const address of listeningAddresses(ipv6Only.brokerPort)) expect(WILDCARDS).toContain(address);
    expect(await runsAJob(ipv6Only.url)).toBe('completed');
  }, 90_000);
});

// Where the standalone broker listens does not depend on its storage: one run (on PostgreSQL) spares the suite two cold PGlite starts.
describe.runIf(TEST_DRIVER === 'postgres')('the standalone broker (npm run qstash:dev)', () => {
  let broker: { process: JobwireProcess; port: number };
  let brokerOnIpv6: { process: JobwireProcess; port: number };
  beforeAll(async () => {
    [broker, brokerOnIpv6] = await Promise.all([startStandaloneBroker([], { QSTASH_DEV_HOST: '0.0.0.0' }), startStandaloneBroker(['--host', '::1'], { QSTASH_DEV_HOST: '0.0.0.0' })]);
  }, 240_000);

  it('QSTASH_DEV_HOST=0.0.0.0 listens on every interface', async () => {
    for (const address of listeningAddresses(broker.port)) expect(WILDCARDS).toContain(address);
    // Unauthenticated: 401 from the broker itself is the answer that proves it listens there.
    expect(await answer('127.0.0.1', broker.port, '/v2/schedules')).toBe(401);
    expect(await answer('[::1]', broker.port, '/v2/schedules')).toBe(401);
  });

  it('names QSTASH_DEV_PORT when its port is in use, and exits 1', async () => {
    const db = await throwawayEnv();
    const second = startJobwire(['--import', TSX, 'server/broker/cli.ts'], { cwd: checkout.dir, env: { ...db.env, QSTASH_DEV_PORT: String(broker.port), QSTASH_DEV_HOST: '0.0.0.0' } });
    cleanups.push(async () => (await second.stop(), await db.drop()));
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toContain(`The QStash broker could not start: port ${broker.port} on :: is already in use`);
    expect(second.stderr()).toContain('set QSTASH_DEV_PORT (or --port) to a free port');
  }, 120_000);

  it('--host wins over QSTASH_DEV_HOST', async () => {
    expect(listeningAddresses(brokerOnIpv6.port)).toEqual(['::1']);
    expect(await answer('127.0.0.1', brokerOnIpv6.port, '/v2/schedules')).toBe('ECONNREFUSED');
    expect(await answer('[::1]', brokerOnIpv6.port, '/v2/schedules')).toBe(401);
  });
});
