/**
 * Disk full on the files directory (issue 15 §7): a real tmpfs that the test fills, under the
 * export files and the dev mailbox. An attempt that meets ENOSPC fails and is retried, leaves no
 * half-written file holding space, the process keeps answering, and once space is back each job
 * completes once: one message in the mailbox, one whole export file.
 * Needs root to mount a tmpfs (CI runs as root); skipped elsewhere.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from '../../shared/jobApi.ts';
import { seedJobs } from '../support/seedJobs.ts';
import { TEST_DRIVER } from '../support/testDatabase.ts';
import { startTestServer, waitFor, type TestServer } from '../support/testServer.ts';

const dir = mkdtempSync(join(tmpdir(), 'jobwire-diskfull-'));
const mounted = TEST_DRIVER === 'postgres' && process.getuid?.() === 0 && mount(['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir]);
function mount(args: string[]): boolean {
  try {
    execFileSync('mount', args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Writes a file until the file system is full. */
function fill(path: string): void {
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(4096, 1);
  try {
    for (;;) writeSync(fd, block);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
}

const filesIn = (root: string): string[] => readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));

let t: TestServer;
beforeAll(async () => {
  if (!mounted) return;
  mkdirSync(join(dir, 'files'));
  mkdirSync(join(dir, 'mailbox'));
  t = await startTestServer({ filesDir: join(dir, 'files'), email: { from: 'jobwire <noreply@jobwire.test>', mailboxDir: join(dir, 'mailbox') } });
}, 60_000);
afterAll(async () => {
  await t?.stop();
  if (mounted) execFileSync('umount', [dir]);
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!mounted)('a full disk under the files and the mailbox', () => {
  it('fails and retries the attempts, leaves nothing half-written, and completes each job once when space is back', { timeout: 90_000 }, async () => {
    const ORG = 31;
    const rows = await seedJobs(t.server.database.db, { organizationId: ORG, count: 3_000 }); // a CSV far larger than the disk
    const client = await t.client({ organizationId: ORG });
    fill(join(dir, 'filler'));

    const email = await client.jobs.enqueue.mutate({ type: 'send-email', payload: { to: 'ada@example.com', template: 'welcome', data: { recipientName: 'Ada' } }, options: { retries: 20 } });
    const exported = await client.jobs.enqueue.mutate({ type: 'export-data', payload: { entityType: 'jobs', format: 'csv', filters: {} }, options: { retries: 20 } });
    const failedOnDisk = (job: JobView) => job.retryCount >= 1 && /ENOSPC|no space/i.test(job.error?.message ?? '');
    for (const { jobId } of [email, exported]) {
      const job = await waitFor(async () => {
        const j = await client.jobs.get.query({ jobId });
        return failedOnDisk(j) ? j : undefined;
      }, { timeout: 30_000, interval: 50 });
      expect(job.status).not.toBe('failed');
    }
    // Nothing half-written holds space: the filler is the only file on the disk.
    expect(filesIn(dir)).toEqual([join(dir, 'filler')]);
    expect((await fetch(`${t.server.url}/healthz`)).status).toBe(200);

    // Space is back: each job completes once.
    rmSync(join(dir, 'filler'));
    execFileSync('mount', ['-o', 'remount,size=64m', dir]);
    const done = async (jobId: string) =>
      waitFor(async () => {
        const j = await client.jobs.get.query({ jobId });
        return j.status === 'completed' ? j : undefined;
      }, { timeout: 30_000, interval: 100 });
    await done(email.jobId);
    const exportJob = await done(exported.jobId);
    const mail = readdirSync(join(dir, 'mailbox')).filter((n) => n.endsWith('.json'));
    expect(mail).toHaveLength(1);
    const result = exportJob.result as { rowCount: number; downloadUrl: string };
    expect(result.rowCount).toBe(rows.length + 2); // the seeded rows and these two jobs
    const csv = await (await fetch(result.downloadUrl)).text();
    expect(csv.split('\r\n').length - 2).toBe(result.rowCount); // header, rows, final newline
    expect(filesIn(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
