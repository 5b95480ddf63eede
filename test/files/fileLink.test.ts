import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForJob } from '../../client/waitForJob.ts';
import { generatedFiles } from '../../server/db/filesSchema.ts';
import { seedJobs } from '../support/seedJobs.ts';
import { startTestServer, type TestServer } from '../support/testServer.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => t?.stop());

const ORG = 51;
const DAY_MS = 24 * 3600_000;

/** A finished export of ORG's jobs: its file id and the bytes its own link serves. */
async function exported(): Promise<{ fileId: string; csv: string }> {
  await seedJobs(t.server.database.db, { organizationId: ORG, count: 25 });
  const member = await t.client({ organizationId: ORG, role: 'member' });
  const { jobId } = await member.jobs.enqueue.mutate({ type: 'export-data', payload: { entityType: 'jobs', format: 'csv', filters: {} } });
  const job = await waitForJob(member, jobId);
  expect(job.status).toBe('completed');
  const { fileId, downloadUrl } = job.result as { fileId: string; downloadUrl: string };
  return { fileId, csv: await (await fetch(downloadUrl)).text() };
}

describe('files.link', () => {
  let file: { fileId: string; csv: string };
  beforeAll(async () => {
    file = await exported();
  });

  it("gives any member of the file's organization a fresh signed link that downloads the file without a token", async () => {
    const member = await t.client({ organizationId: ORG, role: 'member', userId: '77' });
    const before = Date.now();
    const link = await member.files.link.mutate({ fileId: file.fileId });
    expect(link.fileId).toBe(file.fileId);
    expect(link.downloadUrl.startsWith(`${t.server.publicUrl}/api/files/${file.fileId}?expires=`)).toBe(true);
    // 24 hours from now (to the second the link carries).
    expect(link.expiresAt.getTime()).toBeGreaterThanOrEqual(before + DAY_MS - 1_000);
    expect(link.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + DAY_MS);
    const response = await fetch(link.downloadUrl);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(file.csv);
  });

  it('never outlives the file itself', async () => {
    const soon = new Date(Date.now() + 3600_000);
    await t.server.database.db.update(generatedFiles).set({ expiresAt: soon }).where(eq(generatedFiles.id, file.fileId));
    const member = await t.client({ organizationId: ORG, role: 'member' });
    const link = await member.files.link.mutate({ fileId: file.fileId });
    expect(Math.abs(link.expiresAt.getTime() - soon.getTime())).toBeLessThan(1_000);
  });

  it("is NOT_FOUND for another organization's file and for an unknown id, and BAD_REQUEST for a malformed one", async () => {
    const stranger = await t.client({ organizationId: ORG + 1, role: 'admin' });
    for (const fileId of [file.fileId, '00000000-0000-4000-8000-000000000000']) {
      const error = await stranger.files.link.mutate({ fileId }).catch((e: unknown) => e);
      expect(error).toMatchObject({ data: { code: 'NOT_FOUND', jobwireCode: 'FILE_NOT_FOUND' } });
    }
    const malformed = await stranger.files.link.mutate({ fileId: 'x' }).catch((e: unknown) => e);
    expect(malformed).toMatchObject({ data: { code: 'BAD_REQUEST', jobwireCode: 'VALIDATION_ERROR' } });
  });

  it('is FILE_EXPIRED once the file is past its expires_at', async () => {
    await t.server.database.db.update(generatedFiles).set({ expiresAt: new Date(Date.now() - 1_000) }).where(eq(generatedFiles.id, file.fileId));
    const member = await t.client({ organizationId: ORG, role: 'member' });
    const error = await member.files.link.mutate({ fileId: file.fileId }).catch((e: unknown) => e);
    expect(error).toMatchObject({ data: { code: 'NOT_FOUND', jobwireCode: 'FILE_EXPIRED' } });
  });

  it('needs a token', async () => {
    const response = await fetch(`${t.server.url}/trpc/files.link`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ json: { fileId: file.fileId } }) });
    expect(response.status).toBe(401);
  });
});
