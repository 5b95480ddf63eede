/**
 * Group A/G (limits): the per-organization enqueue rate limit. Over it: TOO_MANY_REQUESTS /
 * RATE_LIMITED, HTTP 429 with Retry-After, no row, one `security.rate_limited` line per burst;
 * other organizations unaffected.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { count } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobExecutions } from '../../server/db/schema.ts';
import { openDatabase, type Database } from '../../server/db/database.ts';
import { migrateDatabase } from '../../server/db/migrate.ts';
import { createRateLimiter, parseRateLimit } from '../../server/security/rateLimiter.ts';
import { SECURITY_EVENTS } from '../../server/security/securityEvent.ts';
import { QSTASH_DEV_CURRENT_SIGNING_KEY, QSTASH_DEV_NEXT_SIGNING_KEY, QSTASH_DEV_TOKEN } from '../../server/env.ts';
import { startServer } from '../../server/startServer.ts';
import { createTestDatabaseTarget, type TestDatabaseTarget } from '../support/testDatabase.ts';
import { TEST_AUTH_SECRET, waitFor } from '../support/testServer.ts';
import { callProcedure, startSecurityServer, type SecurityServer } from './support/securityServer.ts';
import { MEMBER_ENQUEUE } from './support/surface.ts';

describe('the token bucket', () => {
  let target: TestDatabaseTarget;
  let instances: Database[];
  beforeAll(async () => {
    target = await createTestDatabaseTarget();
    const open = () => openDatabase(target.pglite ? { pglite: target.pglite } : { url: target.url });
    // Two connections to one database, as two server instances have.
    instances = [await open(), await open()];
    await migrateDatabase(instances[0]!);
  });
  afterAll(async () => {
    for (const database of instances ?? []) await database.close();
    await target?.drop();
  });

  it('allows a burst of `tokens`, then one call per refill interval, and says how long to wait', async () => {
    let now = 0;
    const limiter = createRateLimiter(instances[0]!.db, { tokens: 3, perMs: 3_000 }, () => now);
    for (let i = 0; i < 3; i++) expect((await limiter.take('a')).allowed).toBe(true);
    expect(await limiter.take('a')).toEqual({ allowed: false, retryAfterMs: 1_000, firstRefusal: true });
    now = 400;
    expect(await limiter.take('a')).toEqual({ allowed: false, retryAfterMs: 600, firstRefusal: false });
    expect((await limiter.take('b')).allowed).toBe(true);
    now = 1_000;
    expect((await limiter.take('a')).allowed).toBe(true);
    expect(await limiter.take('a')).toMatchObject({ allowed: false, firstRefusal: true });
    now = 100_000;
    expect((await limiter.take('a')).allowed).toBe(true); // refilled to the burst, not beyond
    expect((await limiter.take('a')).allowed).toBe(true);
    expect((await limiter.take('a')).allowed).toBe(true);
    expect((await limiter.take('a')).allowed).toBe(false);
  });

  it('is one bucket for every instance: two processes together get the configured rate, not twice it', async () => {
    const now = () => 0; // no refill during the test
    const [one, two] = instances.map((database) => createRateLimiter(database.db, { tokens: 5, perMs: 60_000 }, now));
    const takes = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? one! : two!).take('shared')));
    expect(takes.filter((d) => d.allowed)).toHaveLength(5);
    expect((await one!.take('shared')).allowed).toBe(false);
    expect((await two!.take('shared')).allowed).toBe(false);
  });

  it('parses ENQUEUE_RATE_LIMIT', () => {
    expect(parseRateLimit('600/1m')).toEqual({ tokens: 600, perMs: 60_000 });
    expect(parseRateLimit('10/s')).toEqual({ tokens: 10, perMs: 1_000 });
    expect(parseRateLimit(' 5 / 500ms ')).toEqual({ tokens: 5, perMs: 500 });
    expect(parseRateLimit('off')).toBeNull();
    for (const bad of ['', '600', '600/1d', '0/1m', '-1/1m', 'lots/1m', '1/0s']) expect(() => parseRateLimit(bad), bad).toThrow();
  });
});

describe('jobs.enqueue over the limit', () => {
  let t: SecurityServer;
  beforeAll(async () => {
    t = await startSecurityServer({ security: { enqueueRateLimit: { tokens: 3, perMs: 60_000 } } });
  });
  afterAll(async () => t?.stopAndScan());

  const rows = async () => (await t.server.database.db.select({ n: count() }).from(jobExecutions))[0]?.n ?? 0;
  const enqueue = async (organizationId: number, input: unknown = MEMBER_ENQUEUE) =>
    callProcedure(`${t.server.url}/trpc`, { path: 'jobs.enqueue', type: 'mutation', input, token: await t.token({ organizationId, role: 'member' }) });

  it('answers 429 with Retry-After and RATE_LIMITED, creates nothing, and logs the burst once', async () => {
    for (let i = 0; i < 3; i++) expect((await enqueue(30)).status).toBe(200);
    const before = await rows();
    const refused = [await enqueue(30), await enqueue(30), await enqueue(30)];
    for (const result of refused) {
      expect(result.status).toBe(429);
      expect(result.error?.data).toMatchObject({ code: 'TOO_MANY_REQUESTS', jobwireCode: 'RATE_LIMITED' });
      expect(Number(result.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(result.headers.get('retry-after'))).toBeLessThanOrEqual(20);
    }
    expect(await rows()).toBe(before);
    const lines = t.logs.records(SECURITY_EVENTS.rateLimited).filter((r) => r.organizationId === 30);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, path: 'jobs.enqueue', organizationId: 30 });
  });

  it('counts invalid and refused attempts too, so probing is limited as well', async () => {
    const invalid = { ...MEMBER_ENQUEUE, options: { delay: -1 } };
    for (let i = 0; i < 3; i++) expect((await enqueue(31, invalid)).status).toBe(400);
    expect((await enqueue(31)).status).toBe(429);
  });

  it('leaves other organizations unaffected', async () => {
    for (let i = 0; i < 4; i++) await enqueue(32);
    expect((await enqueue(32)).status).toBe(429);
    expect((await enqueue(33)).status).toBe(200);
  });

  it('is one limit across server instances: a second instance on the same database shares the bucket', async () => {
    const mailboxDir = mkdtempSync(join(tmpdir(), 'jobwire-second-'));
    const second = await startServer({
      port: 0,
      database: t.server.database.pglite ? { pglite: t.server.database.pglite } : { url: t.server.database.url },
      qstash: { baseUrl: t.server.broker!.url, token: QSTASH_DEV_TOKEN, signingKeys: { current: QSTASH_DEV_CURRENT_SIGNING_KEY, next: QSTASH_DEV_NEXT_SIGNING_KEY } },
      authSecret: TEST_AUTH_SECRET,
      email: { from: 'x <x@jobwire.test>', mailboxDir },
      log: pino({ level: 'silent' }),
      security: { enqueueRateLimit: { tokens: 3, perMs: 60_000 } },
      defaultSchedules: false,
    });
    try {
      const token = await t.token({ organizationId: 35, role: 'member' });
      const statuses: number[] = [];
      for (const url of [t.server.url, second.url, t.server.url, second.url, t.server.url, second.url]) {
        statuses.push((await callProcedure(`${url}/trpc`, { path: 'jobs.enqueue', type: 'mutation', input: MEMBER_ENQUEUE, token })).status);
      }
      expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
    } finally {
      await second.stop();
      rmSync(mailboxDir, { recursive: true, force: true });
    }
  });

  it('reports RATE_LIMITED to the typed client', async () => {
    const client = await t.client({ organizationId: 34, role: 'member' });
    for (let i = 0; i < 3; i++) await client.jobs.enqueue.mutate(MEMBER_ENQUEUE);
    const error = await client.jobs.enqueue.mutate(MEMBER_ENQUEUE).catch((e: unknown) => e);
    expect(error).toMatchObject({ data: { code: 'TOO_MANY_REQUESTS', jobwireCode: 'RATE_LIMITED', httpStatus: 429 } });
  });
});

describe('refill', () => {
  let t: SecurityServer;
  beforeAll(async () => {
    t = await startSecurityServer({ security: { enqueueRateLimit: { tokens: 2, perMs: 2_000 } } });
  });
  afterAll(async () => t?.stopAndScan());

  it('lets the organization enqueue again once the bucket refills', async () => {
    const client = await t.client({ organizationId: 40, role: 'member' });
    const attempt = () => client.jobs.enqueue.mutate(MEMBER_ENQUEUE).then(() => true, () => false);
    // Spend the bucket until a call is refused (a token refills every second, so on a busy machine
    // a slow call may find one more), then wait for the refill to let a call through again.
    let refused = false;
    for (let i = 0; i < 10 && !refused; i++) refused = !(await attempt());
    expect(refused).toBe(true);
    await waitFor(attempt, { timeout: 10_000, interval: 200 });
  });
});
