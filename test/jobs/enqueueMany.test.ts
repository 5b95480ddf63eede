/** `jobs.enqueueMany` and `dispatcher.enqueueMany` (issue 16): one statement, one batch publish, per-item results. */
import { eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForJob } from '../../client/waitForJob.ts';
import { jobEvents, jobExecutions } from '../../server/db/schema.ts';
import { JobValidationError } from '../../server/jobs/errors.ts';
import { JOB_EVENTS_CHANNEL } from '../../server/jobs/recordEvent.ts';
import { MAX_ENQUEUE_MANY } from '../../shared/jobApi.ts';
import { startTestServer, trpcCode, waitFor, type TestServer } from '../support/testServer.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ security: { enqueueRateLimit: { tokens: 1_000, perMs: 60_000 } } });
});
afterAll(async () => t?.stop());

const email = (to: string, extra: object = {}) => ({ type: 'send-email' as const, payload: { to, template: 'welcome' as const, data: { recipientName: 'M' } }, ...extra });
const rowsTo = async (...to: string[]) =>
  t.server.database.db.select().from(jobExecutions).where(inArray(sql`${jobExecutions.payload}->>'to'`, to));

describe('jobs.enqueueMany', () => {
  it('records the valid items, refuses the invalid ones in their own results, in input order, and runs them', async () => {
    const admin = await t.client({ role: 'admin' });
    const { results } = await admin.jobs.enqueueMany.mutate({
      jobs: [
        email('many-1@example.com'),
        { type: 'send-email', payload: { to: 'not an address', template: 'welcome' } },
        email('many-2@example.com'),
        // @ts-expect-error an unknown type: each item is typed as jobs.enqueue's input
        { type: 'no-such-type', payload: {} },
        email('many-3@example.com', { options: { delay: -1 } }),
      ],
    });
    expect(results.map((r) => r.ok)).toEqual([true, false, true, false, false]);
    expect(results[1]).toMatchObject({ ok: false, error: { code: 'VALIDATION_ERROR', issues: [expect.objectContaining({ path: ['payload', 'to'] })] } });
    expect(results[3]).toMatchObject({ ok: false, error: { code: 'VALIDATION_ERROR' } });
    expect(results[4]).toMatchObject({ ok: false, error: { code: 'VALIDATION_ERROR', issues: [expect.objectContaining({ path: ['options', 'delay'] })] } });
    const ids = results.flatMap((r) => (r.ok ? [r.jobId] : []));
    expect(new Set(ids).size).toBe(2);
    expect((await rowsTo('many-1@example.com', 'many-2@example.com', 'not an address', 'many-3@example.com')).map((r) => r.id).sort()).toEqual([...ids].sort());
    for (const jobId of ids) expect(await waitForJob(admin, jobId, { timeout: 20_000 })).toMatchObject({ status: 'completed' });
    const mail = await t.server.mailbox!.list();
    expect(mail.filter((m) => m.to === 'many-1@example.com' || m.to === 'many-2@example.com')).toHaveLength(2);
  });

  it('deduplicates an idempotency key repeated within the call and across calls', async () => {
    const admin = await t.client({ role: 'admin' });
    const first = await admin.jobs.enqueueMany.mutate({
      jobs: [email('dup-a@example.com', { idempotencyKey: 'k-a' }), email('dup-a@example.com', { idempotencyKey: 'k-a' }), email('dup-b@example.com', { idempotencyKey: 'k-b' })],
    });
    expect(first.results).toEqual([
      { ok: true, jobId: expect.any(String), deduplicated: false },
      { ok: true, jobId: (first.results[0] as { jobId: string }).jobId, deduplicated: true },
      { ok: true, jobId: expect.any(String), deduplicated: false },
    ]);
    const again = await admin.jobs.enqueueMany.mutate({ jobs: [email('dup-b@example.com', { idempotencyKey: 'k-b' }), email('dup-c@example.com', { idempotencyKey: 'k-c' })] });
    expect(again.results[0]).toEqual({ ok: true, jobId: (first.results[2] as { jobId: string }).jobId, deduplicated: true });
    expect(again.results[1]).toMatchObject({ ok: true, deduplicated: false });
    // The single-job procedure agrees with it.
    expect(await admin.jobs.enqueue.mutate(email('dup-a@example.com', { idempotencyKey: 'k-a' }))).toEqual({ jobId: (first.results[0] as { jobId: string }).jobId, deduplicated: true });
    expect(await rowsTo('dup-a@example.com', 'dup-b@example.com', 'dup-c@example.com')).toHaveLength(3);
  });

  it("refuses a member's admin-only types item by item and records the member's own", async () => {
    const member = await t.client({ role: 'member', organizationId: 7 });
    const { results } = await member.jobs.enqueueMany.mutate({
      jobs: [
        { type: 'export-data', payload: { entityType: 'jobs', format: 'csv' }, options: { delay: 3_600_000 } },
        email('member@example.com'),
        { type: 'generate-report', payload: { reportType: 'job-summary', startDate: '2026-01-01', endDate: '2026-01-31', format: 'json' }, options: { delay: 3_600_000 } },
        { type: 'export-data', payload: { entityType: 'users', format: 'csv' }, options: { delay: 3_600_000 } },
        { type: 'export-data', payload: { entityType: 'jobs', format: 'csv' }, options: { headers: { 'X-A': 'b' } } },
      ],
    });
    expect(results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['ok', 'FORBIDDEN_JOB_TYPE', 'ok', 'FORBIDDEN_PAYLOAD', 'FORBIDDEN_OPTION']);
    expect(await rowsTo('member@example.com')).toHaveLength(0);
    const rows = await t.server.database.db.select().from(jobExecutions).where(eq(jobExecutions.organizationId, 7));
    expect(rows.map((r) => r.type).sort()).toEqual(['export-data', 'generate-report']);
    expect(rows.every((r) => r.userId === '1')).toBe(true);
  });

  it(`refuses more than ${MAX_ENQUEUE_MANY} jobs as a whole with BAD_REQUEST, writing nothing`, async () => {
    const admin = await t.client({ role: 'admin' });
    const jobs = Array.from({ length: MAX_ENQUEUE_MANY + 1 }, (_, i) => email(`over-${i}@example.com`));
    const error = await admin.jobs.enqueueMany.mutate({ jobs }).catch((e: unknown) => e);
    expect(trpcCode(error)).toBe('BAD_REQUEST');
    expect(await rowsTo('over-0@example.com', 'over-100@example.com')).toHaveLength(0);
  });

  it('spends the rate limit per item', async () => {
    const limited = await startTestServer({ security: { enqueueRateLimit: { tokens: 5, perMs: 3_600_000 } } });
    try {
      const admin = await limited.client({ role: 'admin' });
      const { results } = await admin.jobs.enqueueMany.mutate({ jobs: [1, 2, 3, 4].map((i) => email(`rl-${i}@example.com`)) });
      expect(results.every((r) => r.ok)).toBe(true);
      const error = await admin.jobs.enqueueMany.mutate({ jobs: [5, 6].map((i) => email(`rl-${i}@example.com`)) }).catch((e: unknown) => e);
      expect(trpcCode(error)).toBe('TOO_MANY_REQUESTS');
      expect(await admin.jobs.enqueue.mutate(email('rl-last@example.com'))).toMatchObject({ deduplicated: false });
    } finally {
      await limited.stop();
    }
  });

  it('fails only the job whose message the broker refuses in a batch', async () => {
    const admin = await t.client({ role: 'admin' });
    // `Upstash-*` headers go to the broker as they are: this one it refuses (400) for its message alone.
    const { results } = await admin.jobs.enqueueMany.mutate({
      jobs: [email('batch-ok-1@example.com'), email('batch-refused@example.com', { options: { headers: { 'Upstash-Flow-Control-Key': 'not a valid key!' } } }), email('batch-ok-2@example.com')],
    });
    expect(results.every((r) => r.ok)).toBe(true);
    const [ok1, refused, ok2] = results.map((r) => (r.ok ? r.jobId : ''));
    expect(await waitForJob(admin, refused!, { timeout: 20_000 })).toMatchObject({ status: 'failed', error: { message: expect.stringMatching(/refused the message/) } });
    for (const jobId of [ok1!, ok2!]) expect(await waitForJob(admin, jobId, { timeout: 20_000 })).toMatchObject({ status: 'completed' });
  });
});

describe('enqueue writes its job, event and NOTIFY in one statement', () => {
  it('announces the pending event with the payload recordEvent writes', async () => {
    const notes: string[] = [];
    const unlisten = await t.server.database.listen(JOB_EVENTS_CHANNEL, (payload) => notes.push(payload));
    try {
      const results = await t.server.dispatcher.enqueueMany([
        { type: 'send-email', payload: { to: 'notify-1@example.com', template: 'welcome' }, metadata: { organizationId: 9 }, options: { delay: 3_600_000 } },
        { type: 'cleanup-old-data', payload: { retention: 30 }, options: { delay: 3_600_000 } },
      ]);
      const ids = results.map((r) => (r.ok ? r.jobId : ''));
      const events = await t.server.database.db.select().from(jobEvents).where(inArray(jobEvents.jobId, ids));
      expect(events.map((e) => [e.jobId, e.status, e.organizationId, e.message, e.retryCount]).sort()).toEqual(
        [
          [ids[0], 'pending', 9, null, 0],
          [ids[1], 'pending', null, null, 0],
        ].sort(),
      );
      const expected = events.map((e) => JSON.stringify({ eventId: e.id, jobId: e.jobId, organizationId: e.organizationId }));
      await waitFor(() => expected.every((note) => notes.includes(note)));
    } finally {
      await unlisten();
    }
  });

  it('dispatcher.enqueueMany returns errors as values and refuses more than the bound', async () => {
    const results = await t.server.dispatcher.enqueueMany([
      { type: 'send-email', payload: { to: 'server-many@example.com', template: 'welcome' }, options: { delay: 3_600_000, idempotencyKey: 'srv-1' } },
      // @ts-expect-error a payload of the wrong shape
      { type: 'send-email', payload: { to: 'x' } },
      { type: 'send-email', payload: { to: 'server-many@example.com', template: 'welcome' }, metadata: { idempotencyKey: 'srv-1' } },
    ]);
    expect(results[0]).toMatchObject({ ok: true, deduplicated: false });
    expect(results[1]).toMatchObject({ ok: false, error: expect.any(JobValidationError) });
    expect(results[2]).toEqual({ ok: true, jobId: (results[0] as { jobId: string }).jobId, deduplicated: true });
    const tooMany = Array.from({ length: MAX_ENQUEUE_MANY + 1 }, () => ({ type: 'cleanup-old-data' as const, payload: { retention: 30 } }));
    await expect(t.server.dispatcher.enqueueMany(tooMany)).rejects.toBeInstanceOf(JobValidationError);
  });
});
