/**
 * `npm start` on a fresh checkout compiles server/ into dist/ once, then runs plain JavaScript with
 * node; everything found by path at run time works from dist/ (handler files, drizzle and broker
 * migrations, email templates, PDF fonts in node_modules, non-TypeScript files); a source edit
 * triggers a rebuild on the next start, an unchanged tree none.
 */
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobsClient, type JobsClient } from '../../client/createJobsClient.ts';
import { waitForJob } from '../../client/waitForJob.ts';
import { signToken } from '../../server/auth/token.ts';
import { copyCheckout, REPO, startJobwire, throwawayEnv, type JobwireProcess } from './jobwireProcess.ts';

const AUTH_SECRET = 'compiled-start-test-secret-0123456789ab';
const COMPILED = 'Compiled server/ into dist/';

let checkout: ReturnType<typeof copyCheckout>;
let base: Awaited<ReturnType<typeof throwawayEnv>>;
let running: JobwireProcess | undefined;

/** `npm start` in the checkout (the command package.json's start script runs). */
async function npmStart(): Promise<{ child: JobwireProcess; client: JobsClient }> {
  const child = startJobwire(['scripts/start.mjs'], { cwd: checkout.dir, env: { ...base.env, AUTH_SECRET } });
  running = child;
  const url = await child.ready();
  const token = await signToken({ userId: '1', organizationId: 1, role: 'admin' }, AUTH_SECRET);
  return { child, client: createJobsClient({ url: `${url}/trpc`, token }) };
}

beforeAll(async () => {
  checkout = copyCheckout('compiled-start');
  base = await throwawayEnv();
  // A non-TypeScript file under server/ (a template, a static file) must be found next to the compiled code.
  writeFileSync(join(checkout.dir, 'server', 'email', 'asset-copied-by-the-build.txt'), 'kept\n');
}, 60_000);

afterAll(async () => {
  await running?.stop();
  await base?.drop();
  checkout?.remove();
});

describe('npm start', () => {
  it('is `node scripts/start.mjs` in package.json', () => {
    expect((JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start).toBe('node scripts/start.mjs');
  });

  it('on a fresh checkout compiles into dist/ and runs it: handlers, migrations, templates and files all work', async () => {
    expect(existsSync(join(checkout.dir, 'dist'))).toBe(false);
    const { child, client } = await npmStart();
    expect(child.output()).toContain(COMPILED);
    expect(readdirSync(join(checkout.dir, 'dist', 'server', 'handlers')).filter((f) => f.endsWith('.js')).sort()).toEqual(
      readdirSync(join(checkout.dir, 'server', 'handlers')).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, '.js')).sort(),
    );
    expect(existsSync(join(checkout.dir, 'dist', 'drizzle', 'meta', '_journal.json'))).toBe(true);
    expect(readFileSync(join(checkout.dir, 'dist', 'server', 'email', 'asset-copied-by-the-build.txt'), 'utf8')).toBe('kept\n');

    const email = await client.jobs.enqueue.mutate({ type: 'send-email', payload: { to: 'ada@example.com', template: 'welcome', data: { recipientName: 'Ada' } } });
    const report = await client.jobs.enqueue.mutate({ type: 'generate-report', payload: { reportType: 'job-summary', startDate: '2025-01-01', endDate: '2025-12-31', format: 'pdf' } });
    const exported = await client.jobs.enqueue.mutate({ type: 'export-data', payload: { entityType: 'jobs', format: 'csv', filters: {} } });
    for (const { jobId } of [email, report, exported]) expect((await waitForJob(client, jobId, { timeout: 90_000 })).status).toBe('completed');
    const mail = readdirSync(join(base.dataDir, 'mailbox')).filter((f) => f.endsWith('.json'));
    expect(mail.length).toBeGreaterThan(0);
    await child.stop();
  }, 300_000);

  it('later starts reuse dist/ without compiling', async () => {
    const { child, client } = await npmStart();
    expect(child.output()).not.toContain(COMPILED);
    await expect(client.jobs.list.query({})).resolves.toMatchObject({ items: expect.any(Array) });
    await child.stop();
  }, 180_000);

  it('a changed source file is compiled again on the next start', async () => {
    appendFileSync(join(checkout.dir, 'server', 'handlers', 'send-email.ts'), '\n// edited after the first build\n');
    const { child, client } = await npmStart();
    expect(child.output()).toContain(COMPILED);
    expect(readFileSync(join(checkout.dir, 'dist', 'server', 'handlers', 'send-email.js'), 'utf8')).toContain('send-email');
    const { jobId } = await client.jobs.enqueue.mutate({ type: 'send-email', payload: { to: 'bob@example.com', template: 'welcome', data: {} } });
    expect((await waitForJob(client, jobId, { timeout: 90_000 })).status).toBe('completed');
    await child.stop();
  }, 180_000);
});
