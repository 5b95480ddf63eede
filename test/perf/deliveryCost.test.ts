/**
 * What one delivery costs the database, counted statement by statement on the app's own client
 * (docs/performance.md, "Delivery"): a claim and a settle, one statement and one write
 * transaction each, each carrying its timeline event and its NOTIFY (the new event's id).
 */
import type { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../server/db/database.ts';
import { JOB_EVENTS_CHANNEL } from '../../server/jobs/recordEvent.ts';
import { NonRetryableJobError } from '../../server/jobs/errors.ts';
import { createTestDatabaseTarget, type TestDatabaseTarget } from '../support/testDatabase.ts';
import { waitFor } from '../support/testServer.ts';
import { startDeliveryHarness, type DeliveryHarness } from './deliveryHarness.ts';

let target: TestDatabaseTarget;
let harness: DeliveryHarness;
const notes: string[] = [];
let unlisten: () => Promise<void>;

beforeAll(async () => {
  target = await createTestDatabaseTarget();
  harness = await startDeliveryHarness(target.url ? { url: target.url } : { pglite: target.pglite! }, async (payload, ctx) => {
    if (payload.to.startsWith('progress')) await ctx.progress(0.5, 'half way');
    if (payload.to.startsWith('fail')) throw new NonRetryableJobError('no such mailbox');
    return { sent: payload.to };
  });
  if (target.url) {
    const listener = postgres(target.url, { max: 1, onnotice: () => {} });
    const sub = await listener.listen(JOB_EVENTS_CHANNEL, (note) => notes.push(note));
    unlisten = async () => {
      await sub.unlisten();
      await listener.end();
    };
  } else {
    const off = await (target.pglite as PGlite).listen(JOB_EVENTS_CHANNEL, (note) => notes.push(note));
    unlisten = off;
  }
});
afterAll(async () => {
  await unlisten?.();
  await harness?.stop();
  await target?.drop();
});

async function seedOne(to: string): Promise<string> {
  const [jobId] = await harness.seed(1);
  await harness.db.execute(sql`UPDATE job_executions SET payload = jsonb_set(payload, '{to}', to_jsonb(${to}::text)) WHERE job_id = ${jobId}`);
  return jobId!;
}

const events = (jobId: string) =>
  queryRows<{ id: number | string; status: string; message: string | null; result: unknown }>(harness.db, sql`SELECT id, status, message, result FROM job_events WHERE job_id = ${jobId} ORDER BY id`);

describe('a delivered job', () => {
  it('costs two statements, two write transactions: the claim and the settle', async () => {
    const jobIds = await Promise.all(Array.from({ length: 5 }, (_, i) => seedOne(`user${i}@example.com`)));
    const deliveries = await Promise.all(jobIds.map((id) => harness.signed(id)));
    harness.reset();
    for (const delivery of deliveries) expect(await harness.post(delivery)).toBe(200);
    expect(harness.counted).toMatchObject({ statements: 10, writeTransactions: 10 });
    expect(harness.counted.log.every((q) => /^WITH changed AS \(update "?job_executions/i.test(q))).toBe(true);
  });

  it('leaves its whole timeline, and announces each event by its new id', async () => {
    const jobId = await seedOne('timeline@example.com');
    notes.length = 0;
    expect(await harness.post(await harness.signed(jobId))).toBe(200);
    const timeline = await events(jobId);
    expect(timeline.map((e) => e.status)).toEqual(['processing', 'completed']);
    expect(timeline[1]!.result).toEqual({ sent: 'timeline@example.com' });
    await waitFor(() => notes.length >= 2);
    expect(notes.map((n) => JSON.parse(n) as unknown)).toEqual(timeline.map((e) => ({ eventId: Number(e.id), jobId, organizationId: 1 })));
  });

  it('reports progress in one statement, and fails a permanent error in one', async () => {
    const progress = await seedOne('progress@example.com');
    const failing = await seedOne('fail@example.com');
    const deliveries = [await harness.signed(progress), await harness.signed(failing)];
    harness.reset();
    expect(await harness.post(deliveries[0]!)).toBe(200);
    expect(harness.counted).toMatchObject({ statements: 3, writeTransactions: 3 });
    expect((await events(progress)).map((e) => [e.status, e.message])).toEqual([['processing', null], ['processing', 'half way'], ['completed', null]]);
    harness.reset();
    expect(await harness.post(deliveries[1]!)).toBe(489);
    expect(harness.counted).toMatchObject({ statements: 2, writeTransactions: 2 });
    expect((await events(failing)).map((e) => e.status)).toEqual(['processing', 'failed']);
  });

  it('a duplicate of a finished job costs the failed claim and one read, and runs nothing', async () => {
    const jobId = await seedOne('duplicate@example.com');
    const delivery = await harness.signed(jobId);
    expect(await harness.post(delivery)).toBe(200);
    harness.reset();
    expect(await harness.post(delivery)).toBe(200);
    expect(harness.counted.statements).toBe(2);
    expect((await events(jobId)).map((e) => e.status)).toEqual(['processing', 'completed']);
  });
});
