/**
 * Per-call costs of the enqueue path that must not change what it promises (issue 16): the rate
 * limiter's reservations in chunks keep the limit an upper bound across instances, and the cached
 * token key is per secret.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken, verifyToken } from '../../server/auth/token.ts';
import { openDatabase, type Database } from '../../server/db/database.ts';
import { migrateDatabase } from '../../server/db/migrate.ts';
import { createRateLimiter } from '../../server/security/rateLimiter.ts';
import { createTestDatabaseTarget, type TestDatabaseTarget } from '../support/testDatabase.ts';

describe('the rate limiter, reserving in chunks', () => {
  let target: TestDatabaseTarget;
  let instances: Database[];
  beforeAll(async () => {
    target = await createTestDatabaseTarget();
    // Two instances, the second (on PostgreSQL) without prepared statements (`DATABASE_PREPARE=false`).
    const open = (prepare: boolean) => openDatabase(target.pglite ? { pglite: target.pglite } : { url: target.url, prepare });
    instances = [await open(true), await open(false)];
    await migrateDatabase(instances[0]!);
  });
  afterAll(async () => {
    for (const database of instances ?? []) await database.close();
    await target?.drop();
  });

  const noRefill = { tokens: 100, perMs: 3_600_000_000 };

  it('allows exactly the bucket to a burst of concurrent callers of one organization', async () => {
    const limiter = createRateLimiter(instances[0]!.db, noRefill, () => 0);
    const takes = await Promise.all(Array.from({ length: 300 }, () => limiter.take('burst')));
    expect(takes.filter((d) => d.allowed)).toHaveLength(100);
    expect(takes.find((d) => !d.allowed)).toMatchObject({ allowed: false, firstRefusal: true });
  });

  it('reserves only what a quiet caller needs, so another instance still gets the rest of the bucket', async () => {
    let now = 0;
    const [one, two] = instances.map((database) => createRateLimiter(database.db, noRefill, () => now));
    expect((await one!.take('shared')).allowed).toBe(true);
    now = 10_000; // `one` is quiet now: whatever it might have held has lapsed
    const allowed = [];
    for (let i = 0; i < 120; i++) allowed.push((await two!.take('shared')).allowed);
    expect(allowed.filter(Boolean)).toHaveLength(99);
    expect((await one!.take('shared')).allowed).toBe(false);
  });

  it('spends one token per item and counts a call bigger than the bucket as the whole bucket', async () => {
    const limiter = createRateLimiter(instances[0]!.db, { tokens: 10, perMs: 3_600_000_000 }, () => 0);
    expect((await limiter.take('items', 4)).allowed).toBe(true);
    expect((await limiter.take('items', 7)).allowed).toBe(false);
    expect((await limiter.take('items', 6)).allowed).toBe(true);
    expect((await limiter.take('items')).allowed).toBe(false);
    const other = createRateLimiter(instances[0]!.db, { tokens: 10, perMs: 3_600_000_000 }, () => 0);
    expect((await other.take('big', 50)).allowed).toBe(true);
    expect((await other.take('big')).allowed).toBe(false);
  });
});

describe('token verification with a cached key', () => {
  it('caches the key per secret: a token verifies with its own secret only, however often either is used', async () => {
    const caller = { userId: '1', organizationId: 1, role: 'admin' as const };
    const a = 'secret-a-0123456789abcdef0123456789ab';
    const b = 'secret-b-0123456789abcdef0123456789ab';
    const signedA = await signToken(caller, a);
    const signedB = await signToken(caller, b);
    for (let i = 0; i < 3; i++) {
      expect(await verifyToken(signedA, a)).toEqual(caller);
      expect(await verifyToken(signedA, b)).toBeNull();
      expect(await verifyToken(signedB, b)).toEqual(caller);
      expect(await verifyToken(signedB, a)).toBeNull();
    }
  });
});
