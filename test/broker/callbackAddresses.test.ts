/**
 * Callbacks may not reach this machine's or this network's private addresses (SSRF), while
 * destinations may (jobwire's own worker routes are on 127.0.0.1). Every refused callback here
 * would reach the local recording destination if it were not refused; names resolve through an
 * injected resolver, so no test ever sends traffic beyond 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './support/harness.ts';
import { sleep, waitFor } from './support/waitFor.ts';

const RESOLVES: Record<string, string[]> = {
  'rebind.attacker.test': ['127.0.0.1'],
  'metadata.attacker.test': ['169.254.169.254'],
  'lan.attacker.test': ['10.0.0.7'],
  'mixed.attacker.test': ['127.0.0.1', '203.0.114.9'],
  'ula.attacker.test': ['fd00:ec2::254'],
};
const lookup = async (hostname: string) => {
  const addresses = RESOLVES[hostname];
  if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return addresses;
};

let strict: Harness; // privateAddresses: 'refuse', as a production broker would run
let dev: Harness; // the embedded broker's default: loopback allowed
beforeAll(async () => {
  [strict, dev] = await Promise.all([startHarness({ callbacks: { privateAddresses: 'refuse', lookup } }), startHarness({ callbacks: { lookup } })]);
});
afterAll(async () => {
  await Promise.all([strict?.close(), dev?.close()]);
});

/** The destination's port: every spelling below names this very server. */
const portOf = (h: Harness) => new URL(h.destination.base).port;

/**
 * Publishes to a path that succeeds (for a `callback`) or fails (for a `failureCallback`), with
 * `url` as that callback. The callback inherits 2 retries: a refusal must not use them.
 */
async function publishWithCallback(h: Harness, url: string, kind: 'callback' | 'failureCallback') {
  const source = `/source/${kind}/${encodeURIComponent(url)}`;
  h.destination.on(source, () => ({ status: kind === 'callback' ? 200 : 500 }));
  await h.client.publish({ url: h.destination.url(source), body: 'job', retries: 2, retryDelay: '10', [kind]: url });
}

/** The broker's log for a callback URL: its ERROR entries, once the callback has settled. */
async function callbackErrors(h: Harness, url: string) {
  const failed = await waitFor(async () => (await h.client.logs({ filter: { url, state: 'FAILED' } })).logs[0], { what: `the callback to ${url} to fail` });
  const { logs } = await h.client.logs({ filter: { url, state: 'ERROR' } });
  return { failed, errors: logs.map((l) => l.error) };
}

describe('callback addresses, privateAddresses: refuse', () => {
  const spellings = (port: string) => [
    `http://127.1:${port}/cb/short`,
    `http://0x7f000001:${port}/cb/hex`,
    `http://2130706433:${port}/cb/decimal`,
    `http://017700000001:${port}/cb/octal`,
    `http://[::ffff:127.0.0.1]:${port}/cb/mapped`,
    `http://localhost:${port}/cb/localhost`,
    `http://LocalHost.:${port}/cb/localhost-dot`,
    `http://rebind.attacker.test:${port}/cb/rebind`,
    `http://mixed.attacker.test:${port}/cb/mixed`,
  ];

  it.each(['callback', 'failureCallback'] as const)('refuses a %s to loopback in every spelling, before connecting, at once and for good', async (kind) => {
    const urls = spellings(portOf(strict)).map((u) => `${u}-${kind}`);
    for (const url of urls) await publishWithCallback(strict, url, kind);
    for (const url of urls) {
      const { errors, failed } = await callbackErrors(strict, url);
      expect(errors, url).toEqual([expect.stringMatching(/^callback refused: .*(loopback|localhost)/)]);
      expect(failed.error, url).toMatch(/^callback refused/);
    }
    await sleep(200);
    expect(strict.destination.requests.filter((r) => r.path.startsWith('/cb/'))).toEqual([]);
  });

  it('refuses names resolving to link-local, private or unique-local addresses, naming the range', async () => {
    const cases = [
      ['http://metadata.attacker.test/latest/meta-data/', /169\.254\.169\.254, in the link-local range/],
      ['http://lan.attacker.test/hook', /10\.0\.0\.7, in the private range 10\.0\.0\.0\/8/],
      ['http://ula.attacker.test/hook', /fd00:ec2::254, in the unique local range/],
    ] as const;
    for (const [url] of cases) await publishWithCallback(strict, url, 'callback');
    for (const [url, reason] of cases) expect((await callbackErrors(strict, url)).errors).toEqual([expect.stringMatching(reason)]);
  });

  it('still delivers messages to loopback destinations (the worker routes are on 127.0.0.1)', async () => {
    await strict.client.publish({ url: strict.destination.url('/plain'), body: 'to a worker route' });
    await waitFor(() => strict.destination.received('/plain')[0]);
  });
});

describe('callback addresses, the embedded default (loopback allowed)', () => {
  it('delivers a callback to a local service', async () => {
    await publishWithCallback(dev, dev.destination.url('/cb/local'), 'callback');
    await waitFor(() => dev.destination.received('/cb/local')[0], { what: 'the local callback' });
  });

  it('refuses a name that resolves to a private or link-local address', async () => {
    for (const url of ['http://lan.attacker.test/x', 'http://metadata.attacker.test/x']) {
      await publishWithCallback(dev, url, 'failureCallback');
      expect((await callbackErrors(dev, url)).errors).toEqual([expect.stringMatching(/^callback refused: /)]);
    }
  });

  it('does not follow a redirect from a callback', async () => {
    dev.destination.on('/cb/redirect', () => ({ status: 302, headers: { Location: dev.destination.url('/cb/internal') } }));
    await publishWithCallback(dev, dev.destination.url('/cb/redirect'), 'callback');
    const { failed } = await callbackErrors(dev, dev.destination.url('/cb/redirect'));
    expect(failed).toMatchObject({ responseStatus: 302 });
    expect(dev.destination.received('/cb/redirect')).toHaveLength(3); // the first attempt and 2 retries, each answered 302
    expect(dev.destination.received('/cb/internal')).toEqual([]);
  });
});
