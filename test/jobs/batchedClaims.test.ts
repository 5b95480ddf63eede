/**
 * Claims and completions of concurrent deliveries share one statement (server/jobs/claimJob.ts,
 * settleJob.ts): each item is still fenced on its own, and each job gets its own timeline event.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { queryRows } from '../../server/db/database.ts';
import { claimJob, claimJobs } from '../../server/jobs/claimJob.ts';
import { stampPublished } from '../../server/jobs/publishJob.ts';
import { completeJob, completeJobs } from '../../server/jobs/settleJob.ts';
import { serverOnFakeBroker } from '../ops/support/fakeQStash.ts';
import { insertJobs } from '../ops/support/insertJobs.ts';
import { TEST_DRIVER } from '../support/testDatabase.ts';

// Nothing but this file's calls touches the rows: no sweeper pass, no deliveries.
const t = serverOnFakeBroker();

const db = () => t().server.database.db;
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
    // All in one turn of the event loop, as the deliveries read together are: whatever the
    // machine's load, no timer or I/O comes between them.
    const together = <T>(run: (i: number) => Promise<T>) => Promise.all(ids.map((_, i) => run(i)));
    const claimed = await together((i) => claimJob(db(), ids[i]!, tokens[i]!));
    expect(claimed.map((row, i) => row?.attemptToken === tokens[i])).toEqual(ids.map(() => true));
    const again = await together((i) => claimJob(db(), ids[i]!, randomUUID()));
    expect(again.every((row) => row === undefined)).toBe(true); // each lease is live
    const completed = await together((i) => completeJob(db(), ids[i]!, tokens[i]!, { i }));
    expect(completed.map((row) => row?.result)).toEqual(ids.map((_, i) => ({ i })));
    const events = await timeline(ids);
    expect(events.map((e) => e.status).sort()).toEqual([...ids.map(() => 'completed'), ...ids.map(() => 'processing')]);
    // Transactions that wrote the claims' events: the first claim alone, the rest together (40
    // without grouping).
    const [{ transactions }] = (await queryRows<{ transactions: number }>(
      db(),
      sql`SELECT count(DISTINCT xmin::text)::int AS transactions FROM job_events WHERE status = 'processing' AND job_id::text IN (${sql.join(ids.map((id) => sql`${id}`), sql`, `)})`,
    )) as [{ transactions: number }];
    expect(transactions).toBeLessThanOrEqual(3);
  });

  it('fails only the completion whose result cannot be stored, not the others grouped with it', async () => {
    const ids = await insertJobs(db(), { count: 3, organizationId: 903, status: 'pending', publishedAt: 'now' });
    const tokens = ids.map(() => randomUUID());
    await claimJobs(db(), ids.map((jobId, i) => ({ jobId, token: tokens[i]! })));
    // A NUL character cannot be stored in jsonb: that item's statement fails; the others complete.
    const results = await Promise.allSettled(ids.map((id, i) => completeJob(db(), id, tokens[i]!, i === 1 ? { text: 'a\u0000b' } : { i })));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  // Several-row writers of job rows lock them in job-id order (transition.ts `lockedInOrder`), so
  // two of them sharing rows never deadlock (each deadlock costs both a 1 s wait). Shown by the
  // lower row held elsewhere: the writer must wait for it before it takes the higher one, even
  // where its plan meets the higher row first (stored first, as here).
  it.skipIf(TEST_DRIVER !== 'postgres')('locks the rows of a grouped claim, completion or publish stamp in job-id order', async () => {
    const other = postgres(t().target.url!, { max: 1, onnotice: () => {} });
    try {
      const tokens = new Map<string, string>();
      const freeRows: Record<string, boolean> = {};
      // Each writer, the status its rows start in, and what each row reads after it.
      const writers: Record<string, { status: 'pending' | 'processing'; after: (id: string) => string; write: (low: string, high: string) => Promise<unknown> }> = {
        claims: { status: 'pending', after: () => 'processing', write: (low, high) => claimJobs(db(), [{ jobId: high, token: randomUUID() }, { jobId: low, token: randomUUID() }]) },
        completions: { status: 'processing', after: () => 'completed', write: (low, high) => completeJobs(db(), [high, low].map((jobId) => ({ jobId, token: tokens.get(jobId)!, stored: 'null' }))) },
        stamps: { status: 'pending', after: (id) => `pending msg_${id}`, write: (low, high) => stampPublished(db(), [high, low].map((id) => ({ row: { id, publishGeneration: 0 }, messageId: `msg_${id}` })), { force: true }) },
      };
      for (const [name, { status, after, write }] of Object.entries(writers)) {
        const ids = await insertJobs(db(), { count: 2, organizationId: 904, status, publishedAt: 'now' });
        for (const id of ids) tokens.set(id, randomUUID());
        await other`UPDATE job_executions SET attempt_token = (${JSON.stringify(Object.fromEntries(tokens))}::text::jsonb ->> job_id::text)::uuid WHERE job_id IN ${other(ids)}`;
        const [low, high] = [...ids].sort();
        // Stored in the order high, low: an update moves a row to the end of its page.
        if (ids[0] === low) await other`UPDATE job_executions SET updated_at = now() WHERE job_id = ${low!}`;
        let outcome: Promise<unknown> | undefined;
        await other.begin(async (tx) => {
          await tx`SELECT 1 FROM job_executions WHERE job_id = ${low!} FOR UPDATE`;
          outcome = write(low!, high!);
          void outcome.catch(() => {});
          for (let waited = 0; ; waited += 10) {
            const [waiting] = await queryRows<{ n: number }>(db(), sql`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
            if (waiting!.n > 0) break;
            if (waited > 5_000) throw new Error(`${name}: never waited for the held row`);
            await new Promise((r) => setTimeout(r, 10));
          }
          // The higher row is free: the waiting writer took nothing out of order.
          const free = await queryRows(db(), sql`SELECT 1 FROM job_executions WHERE job_id = ${high!} FOR UPDATE NOWAIT`).then(() => true, () => false);
          freeRows[name] = free;
        });
        await outcome;
        const rows = await other<{ job_id: string; state: string }[]>`SELECT job_id::text, concat_ws(' ', status, message_id) AS state FROM job_executions WHERE job_id IN ${other(ids)}`;
        expect(Object.fromEntries(rows.map((r) => [r.job_id, r.state]))).toEqual(Object.fromEntries(ids.map((id) => [id, after(id)])));
      }
      expect(freeRows).toEqual({ claims: true, completions: true, stamps: true });
    } finally {
      await other.end();
    }
  });
});
