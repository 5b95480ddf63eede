import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createJobsClient } from '../../client/createJobsClient.ts';
import { signToken } from '../../server/auth/token.ts';
import { DEFAULT_CLEANUP_SCHEDULE } from '../../server/cleanup/ensureDefaultSchedules.ts';
import { queryRows } from '../../server/db/database.ts';
import { jobExecutions, jobSchedules } from '../../server/db/schema.ts';
import { startServer, type RunningServer } from '../../server/startServer.ts';
import { freePort } from '../support/freePort.ts';
import { createTestDatabaseTarget } from '../support/testDatabase.ts';
import { TEST_AUTH_SECRET, trpcCode, waitFor } from '../support/testServer.ts';

const target = await createTestDatabaseTarget();
const dir = mkdtempSync(join(tmpdir(), 'jobwire-restart-'));
let running: RunningServer | undefined;
afterAll(async () => {
  await running?.stop();
  await target.drop();
  rmSync(dir, { recursive: true, force: true });
});

/** The server as main.ts starts it (default schedules on), always on the same database. */
const start = (port = 0) =>
  startServer({
    port,
    database: target.pglite ? { pglite: target.pglite } : { url: target.url },
    qstash: { embedded: { port: 0 } },
    authSecret: TEST_AUTH_SECRET,
    email: { from: 'jobwire <noreply@jobwire.test>', mailboxDir: join(dir, 'mailbox') },
    filesDir: join(dir, 'files'),
    log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    drainTimeoutMs: 1_000,
  });

const client = async (server: RunningServer, role: 'admin' | 'member') =>
  createJobsClient({ url: `${server.url}/trpc`, token: await signToken({ userId: '1', organizationId: 90, role }, TEST_AUTH_SECRET) });

describe('the default cleanup schedule', () => {
  it('is created at start-up and present exactly once after two restarts', async () => {
    await (await start()).stop();
    await (await start()).stop();
    running = await start();
    const db = running.database.db;

    expect(await db.select({ id: jobSchedules.id, org: jobSchedules.organizationId, payload: jobSchedules.payload }).from(jobSchedules)).toEqual([
      { id: DEFAULT_CLEANUP_SCHEDULE.scheduleId, org: null, payload: { retention: 30 } },
    ]);
    const inBroker = await queryRows<{ id: string; cron: string; destination: string }>(db, sql`SELECT id, cron, destination FROM qstash.schedules`);
    // Re-registered on every start, so it fires at this instance's public URL.
    expect(inBroker).toEqual([{ id: DEFAULT_CLEANUP_SCHEDULE.scheduleId, cron: '0 3 * * *', destination: `${running.publicUrl}/api/jobs/cleanup` }]);

    // Admins see it in jobs.schedules.list (read-only: it spans every organization); members don't.
    const admin = await client(running, 'admin');
    const listed = await admin.jobs.schedules.list.query();
    expect(listed.filter((s) => s.scheduleId === DEFAULT_CLEANUP_SCHEDULE.scheduleId)).toEqual([
      expect.objectContaining({ type: 'cleanup-old-data', cron: '0 3 * * *', payload: { retention: 30 }, organizationId: null, paused: false }),
    ]);
    expect(trpcCode(await admin.jobs.schedules.pause.mutate({ scheduleId: DEFAULT_CLEANUP_SCHEDULE.scheduleId }).catch((e: unknown) => e))).toBe('NOT_FOUND');
    expect(await (await client(running, 'member')).jobs.schedules.list.query()).toEqual([]);

    // Its firing runs a system cleanup job.
    const [firing] = await running.broker!.fireDueSchedules(Date.now() + 25 * 3600_000);
    expect(firing?.scheduleId).toBe(DEFAULT_CLEANUP_SCHEDULE.scheduleId);
    const job = await waitFor(async () => {
      const [row] = await db.select().from(jobExecutions).where(eq(jobExecutions.scheduleId, DEFAULT_CLEANUP_SCHEDULE.scheduleId));
      return row?.status === 'completed' ? row : undefined;
    });
    expect(job).toMatchObject({ type: 'cleanup-old-data', organizationId: null, result: expect.objectContaining({ jobsDeleted: 0 }) });
  });

  it('is not written again by a start that would write it unchanged; a start at another URL registers it there', async () => {
    await running?.stop();
    running = undefined;
    const stored = async (server: RunningServer) => {
      const [app] = await server.database.db.select({ updatedAt: jobSchedules.updatedAt }).from(jobSchedules).where(eq(jobSchedules.id, DEFAULT_CLEANUP_SCHEDULE.scheduleId));
      const [broker] = await queryRows<{ destination: string }>(server.database.db, sql`SELECT destination FROM qstash.schedules WHERE id = ${DEFAULT_CLEANUP_SCHEDULE.scheduleId}`);
      return { updatedAt: app!.updatedAt.getTime(), destination: broker!.destination };
    };
    const [port, otherPort] = [await freePort(), await freePort()];
    let server = await start(port);
    const first = await stored(server);
    expect(first.destination).toBe(`http://127.0.0.1:${port}/api/jobs/cleanup`);
    await server.stop();

    server = await start(port);
    expect(await stored(server)).toEqual(first); // same URL, same schedule: neither the row nor the broker's schedule written
    await server.stop();

    running = await start(otherPort);
    const moved = await stored(running);
    expect(moved.destination).toBe(`http://127.0.0.1:${otherPort}/api/jobs/cleanup`);
    expect(moved.updatedAt).toBeGreaterThan(first.updatedAt);
  });
});
