/**
 * Claims and completions of concurrent deliveries share one statement (server/jobs/claimJob.ts,
 * settleJob.ts): each item is still fenced on its own, and each job gets its own timeline event.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../server/db/database.ts';
import { claimJob, claimJobs } from '../../server/jobs/claimJob.ts';
import { completeJob, completeJobs } from '../../server/jobs/settleJob.ts';
import { startFakeQStash } from '../ops/support/fakeQStash.ts';
import { insertJobs } from '../ops/support/insertJobs.ts';
import { TEST_DRIVER } from '../support/testDatabase.ts';
import { startTestServer, type TestServer } from '../support/testServer.ts';

let t: TestServer;
let fake: Awaited<ReturnType<typeof startFakeQStash>>;
beforeAll(async () => {
  fake = await startFakeQStash();
  // Nothing but these calls touches the rows: no sweeper pass, no deliveries (published, fake broker).
  t = await startTestServer({ qstash: fake.qstashConfig(), sweeper: { intervalMs: 3_600_000 } });
}, 60_000);
afterAll(async () => {
  await t?.stop();
  await fake?.close();
});

const db = () => t.server.database.db;
const timeline = async (ids: string[]) =>
  queryRows<{ job_id: string; status: string; result: unknown }>(db(), sql`SELECT job_id::text, status, result FROM job_events WHERE job_id::text IN ${sql`(${sql.join(ids.map((id) => sql`${id}`), sql`, `)})`} ORDER BY id`);

describe('claims and completions in one statement', () => {
  it('fences each item by itself: a taken, finished or missing job and a stale token get nothing, the others their rows', async () => {
    const [a, b, c] = await insertJobs(db(), { count: 3, organizationId: 901, status: 'pending', publishedAt: 'now' });
    const [done] = await insertJobs(db(), { count: 1, organizationId: 901, status: 'completed' });
    const [tokenA, tokenA2, tokenB, tokenC] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const claimed = await claimJobs(db(), [
      { jobId: a!, token: tokenA },
      { jobId: b!, token: tokenB },
      { jobId: a!, token: tokenA2 }, // the same job twice in one statement: one of them wins
      { jobId: done!, token: randomUUID() },
      { jobId: randomUUID(), token: randomUUID() },
      { jobId: c!, token: tokenC },
    ]);
    expect([claimed[0], claimed[2]].filter(Boolean)).toHaveLength(1); // exactly one token holds job a
    expect(claimed.slice(3, 5)).toEqual([undefined, undefined]); // finished, missing
    expect(claimed[5]).toMatchObject({ id: c, status: 'processing', attemptToken: tokenC });
    const tokenOfA = claimed[0] ? tokenA : tokenA2;
    expect(claimed[1]).toMatchObject({ id: b, status: 'processing', attemptToken: tokenB, retryCount: 0 });

    // Completions: the right tokens complete with their results; a stale token matches nothing.
    const completed = await completeJobs(db(), [
      { jobId: a!, token: tokenOfA, stored: JSON.stringify({ n: 1 }) },
      { jobId: b!, token: randomUUID(), stored: 'null' },
      { jobId: c!, token: tokenC, stored: 'null' },
    ]);
    expect(completed.map((row) => row?.status)).toEqual(['completed', undefined, 'completed']);
    expect(completed[0]).toMatchObject({ id: a, result: { n: 1 }, attemptToken: null });
    expect(completed[2]).toMatchObject({ id: c, result: null });

    // One event per change, each with its own job's state (and a completion's result).
    const events = await timeline([a!, b!, c!]);
    expect(events.filter((e) => e.job_id === a).map((e) => [e.status, e.result])).toEqual([['processing', null], ['completed', { n: 1 }]]);
    expect(events.filter((e) => e.job_id === b).map((e) => e.status)).toEqual(['processing']);
    expect(events.filter((e) => e.job_id === c).map((e) => e.status)).toEqual(['processing', 'completed']);
    expect(events.filter((e) => e.job_id === done)).toEqual([]);
  });

  it('claims and completes concurrent deliveries (one statement per group on PGlite), each exactly once', async () => {
    const ids = await insertJobs(db(), { count: 40, organizationId: 902, status: 'pending', publishedAt: 'now' });
    const tokens = ids.map(() => randomUUID());
    // Each from its own callback, as deliveries read in one turn of the event loop are.
    const inCallbacks = <T>(run: (i: number) => Promise<T>) => Promise.all(ids.map((_, i) => new Promise<T>((resolve, reject) => setTimeout(() => run(i).then(resolve, reject), 0))));
    const claimed = await inCallbacks((i) => claimJob(db(), ids[i]!, tokens[i]!));
    expect(claimed.map((row, i) => row?.attemptToken === tokens[i])).toEqual(ids.map(() => true));
    const again = await inCallbacks((i) => claimJob(db(), ids[i]!, randomUUID()));
    expect(again.every((row) => row === undefined)).toBe(true); // each lease is live
    const completed = await inCallbacks((i) => completeJob(db(), ids[i]!, tokens[i]!, { i }));
    expect(completed.map((row) => row?.result)).toEqual(ids.map((_, i) => ({ i })));
    const events = await timeline(ids);
    expect(events.map((e) => e.status).sort()).toEqual([...ids.map(() => 'completed'), ...ids.map(() => 'processing')]);
    // Transactions that wrote the claims' events: a few groups on PGlite (timers due in the same
    // millisecond fire in one turn); one each on PostgreSQL, where several-row claims could
    // deadlock with other several-row updates.
    const [{ transactions }] = (await queryRows<{ transactions: number }>(
      db(),
      sql`SELECT count(DISTINCT xmin::text)::int AS transactions FROM job_events WHERE status = 'processing' AND job_id::text IN (${sql.join(ids.map((id) => sql`${id}`), sql`, `)})`,
    )) as [{ transactions: number }];
    if (TEST_DRIVER === 'pglite') expect(transactions).toBeLessThanOrEqual(4);
    else expect(transactions).toBe(ids.length);
  });

  it('fails only the completion whose result cannot be stored, not the others grouped with it', async () => {
    const ids = await insertJobs(db(), { count: 3, organizationId: 903, status: 'pending', publishedAt: 'now' });
    const tokens = ids.map(() => randomUUID());
    await claimJobs(db(), ids.map((jobId, i) => ({ jobId, token: tokens[i]! })));
    // A NUL character cannot be stored in jsonb: that item's statement fails; the others complete.
    const results = await Promise.allSettled(ids.map((id, i) => completeJob(db(), id, tokens[i]!, i === 1 ? { text: 'a\u0000b' } : { i })));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });
});
