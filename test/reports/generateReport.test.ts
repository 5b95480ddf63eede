import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractText, getDocumentProxy } from 'unpdf';
import type { JobView } from '../../shared/jobApi.ts';
import { seedJobs } from '../support/seedJobs.ts';
import { startTestServer, trpcCode, waitFor, type TestServer } from '../support/testServer.ts';

let t: TestServer;
const ORG = 71;
beforeAll(async () => {
  t = await startTestServer();
  const db = t.server.database.db;
  const day = (d: number, h = 12) => new Date(Date.UTC(2025, 4, d, h)); // May 2025
  // Inside the range (May 1–7): 6 completed send-email on May 2 lasting 100…600 ms, 2 failed on
  // May 4, 1 completed export-data on May 7 lasting 700 ms.
  for (let i = 1; i <= 6; i++) await seedJobs(db, { organizationId: ORG, count: 1, createdAt: day(2, i), durationMs: i * 100 });
  await seedJobs(db, { organizationId: ORG, count: 2, status: 'failed', createdAt: day(4) });
  await seedJobs(db, { organizationId: ORG, count: 1, type: 'export-data', createdAt: day(7, 23), durationMs: 700 });
  // Outside it: another day and another organization.
  await seedJobs(db, { organizationId: ORG, count: 5, createdAt: day(8, 0) });
  await seedJobs(db, { organizationId: ORG + 1, count: 5, createdAt: day(3) });
});
afterAll(async () => t?.stop());

async function report(format: 'pdf' | 'csv' | 'json', reportType: 'monthly-analytics' | 'job-summary' = 'monthly-analytics') {
  const client = await t.client({ organizationId: ORG, role: 'member' });
  const { jobId } = await client.jobs.enqueue.mutate({ type: 'generate-report', payload: { reportType, startDate: '2025-05-01', endDate: '2025-05-07', format } });
  const job: JobView = await waitFor(async () => {
    const j = await client.jobs.get.query({ jobId });
    return ['completed', 'failed'].includes(j.status) ? j : undefined;
  }, { timeout: 30_000 });
  expect(job.status).toBe('completed');
  const result = job.result as { downloadUrl: string; bytes: number; format: string; summary: Record<string, number | null> };
  const response = await fetch(result.downloadUrl);
  expect(response.status).toBe(200);
  return { result, response };
}

// 7 completed lasting 100…700 ms → avg 400, p95 = 600 + 0.7 × 100 = 670 (percentile_cont, interpolated).
const expected = { total: 9, completed: 7, failed: 2, successRate: 7 / 9, avgDurationMs: 400, p95DurationMs: 670, days: 7 };

describe('generate-report', () => {
  it('renders monthly analytics as a real PDF with the expected numbers', async () => {
    const { result, response } = await report('pdf');
    expect(result.summary).toEqual(expected);
    expect(response.headers.get('content-type')).toBe('application/pdf');
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect(Buffer.from(bytes.subarray(0, 5)).toString()).toBe('%PDF-');
    expect(bytes.length).toBe(result.bytes);
    const pdf = await getDocumentProxy(bytes);
    const { text } = await extractText(pdf, { mergePages: true });
    expect(text).toContain('Monthly analytics');
    expect(text).toContain(`Organization ${ORG}`);
    expect(text).toContain('2025-05-01 to 2025-05-07');
    expect(text).toMatch(/Total jobs\s+9/);
    expect(text).toMatch(/Completed\s+7/);
    expect(text).toMatch(/Failed\s+2/);
    expect(text).toMatch(/Success rate\s+77\.8%/);
    expect(text).toMatch(/Average duration\s+400 ms/);
    expect(text).toMatch(/p95 duration\s+670 ms/);
    expect(text).toContain('Jobs per day');
    expect(text).toMatch(/2025-05-02\s+6\s+6\s+0/); // the daily table
    expect(text).toMatch(/2025-05-04\s+2\s+0\s+2/);
  });

  it('renders the job summary per type', async () => {
    const { response } = await report('pdf', 'job-summary');
    const { text } = await extractText(await getDocumentProxy(new Uint8Array(await response.arrayBuffer())), { mergePages: true });
    expect(text).toContain('Job summary');
    expect(text).toMatch(/send-email\s+8\s+6\s+2\s+75\.0%\s+350 ms\s+575 ms/);
    expect(text).toMatch(/export-data\s+1\s+1\s+0\s+100\.0%\s+700 ms\s+700 ms/);
  });

  it('renders JSON and CSV with the same numbers', async () => {
    const json = (await (await report('json')).response.json()) as { total: number; daily: { date: string; total: number }[]; byStatus: Record<string, number> };
    expect(json).toMatchObject({ total: 9, completed: 7, failed: 2, avgDurationMs: 400, p95DurationMs: 670, byStatus: { completed: 7, failed: 2, pending: 0 } });
    expect(json.daily.map((d) => d.total)).toEqual([0, 6, 0, 2, 0, 0, 1]);
    const { response } = await report('csv');
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const csv = await response.text();
    expect(csv.split('\r\n')[0]).toBe('section,key,metric,value');
    expect(csv).toContain('summary,,total,9\r\n');
    expect(csv).toContain('summary,,p95DurationMs,670\r\n');
    expect(csv).toContain('daily,2025-05-02,total,6\r\n');
    expect(csv).toContain('type,send-email,failed,2\r\n');
  });

  it('refuses an inverted or too long date range with BAD_REQUEST at enqueue', async () => {
    const client = await t.client({ organizationId: ORG, role: 'member' });
    const inverted = await client.jobs.enqueue
      .mutate({ type: 'generate-report', payload: { reportType: 'monthly-analytics', startDate: '2025-05-07', endDate: '2025-05-01', format: 'pdf' } })
      .catch((e: unknown) => e);
    expect(trpcCode(inverted)).toBe('BAD_REQUEST');
    const tooLong = await client.jobs.enqueue
      .mutate({ type: 'generate-report', payload: { reportType: 'job-summary', startDate: '2024-01-01', endDate: '2025-01-01', format: 'json' } })
      .catch((e: unknown) => e);
    expect(trpcCode(tooLong)).toBe('BAD_REQUEST');
    const notADate = await client.jobs.enqueue
      .mutate({ type: 'generate-report', payload: { reportType: 'job-summary', startDate: '2025-02-30', endDate: '2025-03-01', format: 'json' } })
      .catch((e: unknown) => e);
    expect(trpcCode(notADate)).toBe('BAD_REQUEST');
  });
});
