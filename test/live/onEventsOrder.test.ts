/**
 * Event ids are allocated at insert, announced at commit: an organization's events can commit out
 * of id order. The organization stream's cursor names the ids still in flight, so a dashboard
 * that reconnects in between still gets the late one (docs/org-stream-ordering.md).
 */
import { eq, inArray } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../server/db/database.ts';
import { migrateDatabase } from '../../server/db/migrate.ts';
import { jobExecutions, type JobRow } from '../../server/db/schema.ts';
import { HOLE_TTL_MS, startJobEventHub } from '../../server/jobs/eventHub.ts';
import { recordEvent } from '../../server/jobs/recordEvent.ts';
import type { JobEvent } from '../../shared/jobEvent.ts';
import { seedJobs } from '../support/seedJobs.ts';
import { createTestDatabaseTarget, TEST_DRIVER, type TestDatabaseTarget } from '../support/testDatabase.ts';
import { startTestServer, waitFor, type TestServer } from '../support/testServer.ts';

const ORG = 61;

async function jobRows(db: Database['db'], count: number): Promise<JobRow[]> {
  const ids = await seedJobs(db, { organizationId: ORG, count, status: 'processing' });
  const rows = await db.select().from(jobExecutions).where(inArray(jobExecutions.id, ids));
  return ids.map((id) => rows.find((r) => r.id === id)!); // seeded just now
}

/** Opens a transaction that records an event for `row` and stays open until `commit()`. */
function openTransaction(db: Database['db'], row: JobRow) {
  let commit!: () => void;
  const released = new Promise<void>((resolve) => (commit = resolve));
  let eventId!: Promise<number>;
  const done = new Promise<void>((resolveDone, rejectDone) => {
    eventId = new Promise<number>((resolveId, rejectId) => {
      db.transaction(async (tx) => {
        resolveId(await recordEvent(tx, row, 'late'));
        await released;
      }).then(resolveDone, (error: unknown) => (rejectId(error), rejectDone(error)));
    });
  });
  return { eventId, commit: async () => (commit(), await done) };
}

// Two transactions open at once need two connections: PostgreSQL only (PGlite has one).
describe.runIf(TEST_DRIVER === 'postgres')('jobs.onEvents across out-of-order commits', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t?.stop());

  it('resumes with the event whose transaction committed after a higher one, and repeats nothing', async () => {
    const db = t.server.database.db;
    const [slow, fast] = await jobRows(db, 2);
    const client = await t.client({ organizationId: ORG });
    const seen: { id: string; event: JobEvent }[] = [];
    const first = client.jobs.onEvents.subscribe({}, { onData: ({ id, data }) => void seen.push({ id, event: data }) });
    await waitFor(() => t.server.jobs.events.subscriberCount === 1);

    const late = openTransaction(db, slow!); // allocates the lower id, commits last
    const lateId = await late.eventId;
    const fastId = await db.transaction((tx) => recordEvent(tx, fast!, 'early'));
    expect(fastId).toBeGreaterThan(lateId);
    await waitFor(() => seen.some((s) => s.event.eventId === String(fastId)));
    const cursor = seen.find((s) => s.event.eventId === String(fastId))!.id;
    expect(cursor).toBe(`${fastId}~${lateId}`);

    // The dashboard drops here; the slow transaction commits while it is away.
    first.unsubscribe();
    await waitFor(() => t.server.jobs.events.subscriberCount === 0);
    await late.commit();

    const resumed: JobEvent[] = [];
    const second = client.jobs.onEvents.subscribe({ lastEventId: cursor }, { onData: ({ data }) => void resumed.push(data) });
    await waitFor(() => resumed.length >= 1);
    // One more event, to be sure nothing else (a repeat of the fast one) was queued before it.
    const [marker] = await jobRows(db, 1);
    const markerId = await db.transaction((tx) => recordEvent(tx, marker!, 'marker'));
    await waitFor(() => resumed.some((e) => e.eventId === String(markerId)));
    second.unsubscribe();
    expect(resumed.map((e) => Number(e.eventId))).toEqual([lateId, markerId]);
    expect(resumed[0]).toMatchObject({ jobId: slow!.id, message: 'late' });
  });

  it('gives a late commit live, in commit order, with cursors that never skip it', async () => {
    const db = t.server.database.db;
    const [slow, fast] = await jobRows(db, 2);
    const client = await t.client({ organizationId: ORG });
    const seen: { id: string; event: JobEvent }[] = [];
    const sub = client.jobs.onEvents.subscribe({}, { onData: ({ id, data }) => void seen.push({ id, event: data }) });
    await waitFor(() => t.server.jobs.events.subscriberCount === 1);
    const late = openTransaction(db, slow!);
    const lateId = await late.eventId;
    const fastId = await db.transaction((tx) => recordEvent(tx, fast!, 'early'));
    await late.commit();
    await waitFor(() => seen.length === 2);
    sub.unsubscribe();
    expect(seen.map((s) => Number(s.event.eventId))).toEqual([fastId, lateId]);
    expect(seen.map((s) => s.id)).toEqual([`${fastId}~${lateId}`, String(fastId)]);
  });
});

describe('the event hub: ids in flight', () => {
  let target: TestDatabaseTarget;
  let database: Database;
  beforeAll(async () => {
    target = await createTestDatabaseTarget();
    database = await openDatabase(target.pglite ? { pglite: target.pglite } : { url: target.url });
    await migrateDatabase(database);
  });
  afterAll(async () => {
    await database?.close();
    await target?.drop();
  });

  it('reports the id of a rolled-back event as pending until it is given up on', async () => {
    let now = 1_000_000;
    const hub = await startJobEventHub(database, pino({ level: 'silent' }), () => now);
    try {
      const [rolledBack, committed] = await jobRows(database.db, 2);
      const given: string[] = [];
      const unsubscribe = hub.subscribeOrganization({ organizationId: ORG }, { onEvent: (e) => void given.push(e.eventId), onError: () => {}, onGap: () => {} });
      let lostId = 0;
      await database.db
        .transaction(async (tx) => {
          lostId = await recordEvent(tx, rolledBack!, 'lost');
          throw new Error('roll back');
        })
        .catch(() => undefined);
      const keptId = await database.db.transaction((tx) => recordEvent(tx, committed!, 'kept'));
      await waitFor(() => given.includes(String(keptId)));
      expect(hub.announcedUpTo).toBe(keptId);
      expect(hub.pendingBelow(keptId + 1)).toEqual([lostId]);
      now += HOLE_TTL_MS + 1;
      expect(hub.pendingBelow(keptId + 1)).toEqual([]);
      unsubscribe();
      await database.db.update(jobExecutions).set({ status: 'completed' }).where(eq(jobExecutions.organizationId, ORG));
    } finally {
      await hub.stop();
    }
  });
});
