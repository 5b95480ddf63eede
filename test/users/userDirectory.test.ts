/**
 * The user directory (`jobwire_users`): verified callers of the tRPC API are recorded per
 * organization, throttled in process, without slowing or failing the request.
 */
import { and, eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../server/db/database.ts';
import { jobwireUsers, type JobwireUserRow } from '../../server/db/usersSchema.ts';
import { createRecordUserSeen } from '../../server/users/recordUserSeen.ts';
import { startTestServer, waitFor, type TestServer } from '../support/testServer.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => t?.stop());

const LONG_AGO = new Date('2000-01-01T00:00:00Z');
const silent = pino({ level: 'silent' });

const usersOf = (organizationId: number) => t.server.database.db.select().from(jobwireUsers).where(eq(jobwireUsers.organizationId, organizationId)).orderBy(jobwireUsers.userId);
const userRow = async (organizationId: number, userId: string): Promise<JobwireUserRow | undefined> =>
  (await t.server.database.db.select().from(jobwireUsers).where(and(eq(jobwireUsers.organizationId, organizationId), eq(jobwireUsers.userId, userId))))[0];
/** One authenticated request (its own HTTP request: awaited calls are never batched together). */
const call = async (caller: { userId: string; organizationId: number; role: 'member' | 'admin' }) => (await t.client(caller)).jobs.list.query({});
const backdate = (organizationId: number, userId: string) =>
  t.server.database.db.update(jobwireUsers).set({ lastSeenAt: LONG_AGO }).where(and(eq(jobwireUsers.organizationId, organizationId), eq(jobwireUsers.userId, userId)));

describe('user directory', () => {
  it('records the callers of two organizations; a role change updates the role and last_seen_at only', async () => {
    await call({ userId: '11', organizationId: 701, role: 'member' });
    await call({ userId: '12', organizationId: 702, role: 'admin' });
    await call({ userId: '12', organizationId: 701, role: 'member' }); // the same user id in another organization: its own row
    const first = await waitFor(async () => ((await usersOf(701)).length === 2 && (await usersOf(702)).length === 1 ? usersOf(701) : undefined));
    expect(first.map(({ userId, organizationId, role }) => ({ userId, organizationId, role }))).toEqual([
      { userId: '11', organizationId: 701, role: 'member' },
      { userId: '12', organizationId: 701, role: 'member' },
    ]);
    expect((await usersOf(702)).map(({ userId, role }) => ({ userId, role }))).toEqual([{ userId: '12', role: 'admin' }]);
    const seen = first[0]!;
    expect(seen.lastSeenAt.getTime()).toBe(seen.firstSeenAt.getTime());
    expect(Math.abs(seen.firstSeenAt.getTime() - Date.now())).toBeLessThan(60_000);

    // Promoted: written at once despite the throttle.
    await backdate(701, '11');
    await call({ userId: '11', organizationId: 701, role: 'admin' });
    const promoted = await waitFor(async () => {
      const row = await userRow(701, '11');
      return row?.role === 'admin' ? row : undefined;
    });
    expect(promoted.firstSeenAt).toEqual(seen.firstSeenAt);
    expect(promoted.lastSeenAt.getTime()).toBeGreaterThan(LONG_AGO.getTime());
    expect(await userRow(701, '12')).toMatchObject({ role: 'member' }); // the other organization's user 12 is untouched
    expect(await userRow(702, '12')).toMatchObject({ role: 'admin' });
  });

  it('writes a burst of requests once, and never records an invalid token', async () => {
    await call({ userId: '21', organizationId: 703, role: 'member' });
    await waitFor(() => userRow(703, '21'));
    await backdate(703, '21');
    for (let i = 0; i < 10; i++) await call({ userId: '21', organizationId: 703, role: 'member' });
    const anonymous = await fetch(`${t.server.url}/trpc/jobs.list?input=${encodeURIComponent('{"json":{}}')}`, { headers: { authorization: 'Bearer not-a-jwt' } });
    expect(anonymous.status).toBe(401);
    // A later caller's row, then a pause, so any write the burst had started has landed.
    await call({ userId: '22', organizationId: 703, role: 'member' });
    await waitFor(() => userRow(703, '22'));
    await new Promise((r) => setTimeout(r, 200));
    expect((await userRow(703, '21'))?.lastSeenAt).toEqual(LONG_AGO);
    expect((await usersOf(703)).map((u) => u.userId)).toEqual(['21', '22']);
  });
});

describe('createRecordUserSeen', () => {
  it('writes again once the throttle has passed, and forgets the least recently written user beyond maxEntries', async () => {
    let clock = 0;
    const record = createRecordUserSeen({ db: t.server.database.db, log: silent, throttleMs: 1_000, maxEntries: 2, now: () => clock });
    const a = { userId: '31', organizationId: 704, role: 'member' } as const;
    const b = { ...a, userId: '32' };
    const c = { ...a, userId: '33' };
    await record(a);
    await backdate(704, '31');
    expect(record(a)).toBeUndefined();
    clock = 999;
    expect(record(a)).toBeUndefined();
    clock = 1_000;
    await record(a);
    expect((await userRow(704, '31'))?.lastSeenAt.getTime()).toBeGreaterThan(LONG_AGO.getTime());

    await record(b);
    await record(c); // a, written longest ago, is forgotten
    expect(record(c)).toBeUndefined();
    expect(record(b)).toBeUndefined();
    expect(record(a)).toBeInstanceOf(Promise);
    expect((await usersOf(704)).map((u) => u.userId)).toEqual(['31', '32', '33']);
  });

  it('logs a failed write instead of rejecting, and does not retry it before the throttle passes', async () => {
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const broken = { insert: () => { throw new Error('database is down'); } } as unknown as Db;
    const record = createRecordUserSeen({ db: broken, log });
    await expect(record({ userId: '41', organizationId: 705, role: 'admin' })).resolves.toBeUndefined();
    expect(record({ userId: '41', organizationId: 705, role: 'admin' })).toBeUndefined();
    expect(lines).toEqual([expect.objectContaining({ level: 40, msg: '[users] Could not record the user', organizationId: 705, userId: '41' })]);
  });
});
