/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core, as
 * test/client/browser.test.ts): the built app served at /dashboard by the server, signed in as
 * operator, admin and a member of another organization, every screen walked. Screenshots of each
 * screen at 1280 px and 390 px go to test-artifacts/dashboard/ (gitignored).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../server/auth/token.ts';
import { queryRows } from '../../server/db/database.ts';
import { webhookEvents } from '../../server/db/webhookSchema.ts';
import { DEV_AUTH_SECRET } from '../../server/env.ts';
import type { JobHandler } from '../../server/jobs/handlers.ts';
import { TEST_DRIVER } from '../support/testDatabase.ts';
import { startTestServer, type TestServer } from '../support/testServer.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.JOBWIRE_REQUIRE_BROWSER) throw new Error(`JOBWIRE_REQUIRE_BROWSER is set but there is no Chromium at ${CHROMIUM}`);
const ARTIFACTS = 'test-artifacts/dashboard';

// Emails to fail@… always fail (a timeline of every attempt); the others report progress, then pause, then succeed.
const email: JobHandler<'send-email'> = async (payload, ctx) => {
  if (payload.to.startsWith('fail')) throw new Error('mailbox unavailable');
  await ctx.progress(0.5, 'rendered');
  await new Promise((r) => setTimeout(r, 700));
  return { sent: payload.to };
};

describe.runIf(hasChromium && TEST_DRIVER === 'pglite')('the dashboard in a browser', () => {
  let t: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  /** Requests to any other origin (there must be none) and CSP violations or page errors. */
  const foreign: string[] = [];
  const problems: string[] = [];

  const watch = (p: Page) => {
    p.on('request', (request) => void (request.url().startsWith(base) || request.url().startsWith('data:') || foreign.push(request.url())));
    p.on('console', (message) => void (message.type() === 'error' && /Content Security Policy|Refused to/.test(message.text()) && problems.push(message.text())));
    p.on('pageerror', (error) => void problems.push(error.message));
  };

  async function shoot(name: string) {
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
      await page.waitForTimeout(100);
      // At 390 px nothing may overflow the viewport sideways but the tables' own scroll areas.
      if (width === 390) expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
      await page.screenshot({ path: `${ARTIFACTS}/${name}-${width}.png`, fullPage: true });
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  }

  const toField = () => page.getByRole('textbox', { name: 'to', exact: true });
  const go = (path: string) => page.goto(`${base}/dashboard${path}`);
  const nav = (name: string) => page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name, exact: true }).click();
  async function signOut() {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to jobwire' }).waitFor();
  }
  async function devSignIn(role: 'operator' | 'admin' | 'member') {
    await go('/');
    await page.getByRole('button', { name: `Sign in as ${role}` }).click();
    await page.getByText(`${role} · org 1`).waitFor();
  }

  beforeAll(async () => {
    // The build `npm start` makes (a no-op when current).
    execFileSync(process.execPath, ['scripts/buildDashboard.mjs', '--if-stale'], { stdio: 'pipe' });
    mkdirSync(ARTIFACTS, { recursive: true });
    // On the dev AUTH_SECRET, as `npm start` without configuration: the dev sign-in is offered.
    t = await startTestServer({ authSecret: DEV_AUTH_SECRET, handlers: { 'send-email': email } });
    base = t.server.url;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    watch(page);
  }, 120_000);

  // What the page showed when a step failed, beside the screenshots.
  afterEach(async ({ task }) => {
    if (task.result?.state === 'fail') await page?.screenshot({ path: `${ARTIFACTS}/failed-${task.name.slice(0, 40).replace(/\W+/g, '-')}.png`, fullPage: true });
  });

  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('serves the app with its own CSP, cached hashed assets, and a sign-in page', async () => {
    const response = await fetch(`${base}/dashboard/jobs?status=failed`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const asset = /\/dashboard\/assets\/[^"]+\.js/.exec(await response.text())![0];
    const cached = await fetch(`${base}${asset}`);
    expect(cached.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(`${base}/dashboard/assets/missing-123.js`)).status).toBe(404);

    await go('/');
    await page.getByRole('heading', { name: 'Sign in to jobwire' }).waitFor();
    // Keyboard: the first Tab lands on the token field's label target, not a trap.
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string | undefined>('document.activeElement?.id')).toBe('token');
    await shoot('signin');
  });

  it('as an admin: enqueues from the form, sees the job appear live and complete, and a failing job with every attempt', async () => {
    await devSignIn('admin');
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await shoot('overview-empty');

    // The jobs list open in a second tab (window.open copies the tab's sessionStorage, the token), live, while the first enqueues.
    const [list] = await Promise.all([context.waitForEvent('page'), page.evaluate("void window.open('/dashboard/jobs')")]);
    watch(list);
    await list.getByRole('status').filter({ hasText: /^Live$/ }).waitFor();

    await nav('Enqueue');
    await page.getByLabel('Job type').selectOption('send-email');
    await toField().fill('');
    await page.getByRole('button', { name: 'Enqueue' }).click();
    await page.getByText('must be a valid email', { exact: false }).or(page.getByRole('alert')).first().waitFor(); // validated before it is sent
    await toField().fill('live@example.com');
    await shoot('enqueue');
    await page.getByRole('button', { name: 'Enqueue' }).click();
    const link = page.getByRole('status').getByRole('link');
    const jobId = (await link.textContent())!.replace('job ', '');

    // Appears without a reload and changes status in place to completed.
    const row = list.locator(`tr[data-job-id="${jobId}"]`);
    await row.waitFor({ timeout: 10_000 });
    await list.locator(`tr[data-job-id="${jobId}"][data-status="completed"]`).waitFor({ timeout: 15_000 });
    const reloads = await list.evaluate<number>("performance.getEntriesByType('navigation').length");
    expect(reloads).toBe(1);
    await list.close();

    // A job that always fails: its timeline shows every attempt with its error.
    await toField().fill('fail@example.com');
    await page.getByRole('button', { name: 'Enqueue' }).click();
    await expect.poll(() => page.getByRole('status').getByRole('link').textContent()).not.toBe(`job ${jobId}`);
    const failing = (await page.getByRole('status').getByRole('link').textContent())!.replace('job ', '');
    await page.getByRole('status').getByRole('link').click();
    await page.locator('.heading-row .badge-failed').waitFor({ timeout: 20_000 });
    const attempts = page.locator('[data-attempt]');
    await expect.poll(() => attempts.count()).toBe(4); // send-email: 3 retries
    expect(await attempts.first().textContent()).toContain('mailbox unavailable');
    expect(await page.getByText('message ').count()).toBeGreaterThan(0);
    await shoot('job-detail-failed');

    // Replay with an edited payload: the diff shows the change, the new job opens.
    await page.getByRole('button', { name: 'Replay with an edited payload…' }).click();
    await toField().fill('replayed@example.com');
    await page.locator('.diff del').filter({ hasText: '"fail@example.com"' }).waitFor();
    expect(await page.locator('.diff ins').textContent()).toBe('"replayed@example.com"');
    await shoot('job-detail-replay');
    await page.getByRole('button', { name: 'Replay as a new job' }).click();
    await page.locator('.heading-row .badge-completed').waitFor({ timeout: 20_000 });
    // The new job names its original, and the original lists it.
    await page.getByText('Replay of').waitFor();
    expect(await page.locator('.facts a.mono').first().textContent()).toBe(failing);

    await go(`/jobs/${jobId}`);
    await page.locator('[data-attempt="1"]').waitFor();
    expect(await page.locator('.progress').textContent()).toContain('rendered');
    await shoot('job-detail-completed');

    await nav('Jobs');
    await page.locator('tr[data-job-id]').first().waitFor();
    await shoot('jobs');
    // Filter state is in the URL: a shared link opens the same view.
    await page.getByLabel('Status').selectOption('failed');
    await expect.poll(() => new URL(page.url()).searchParams.get('status')).toBe('failed');
    await page.reload();
    expect(await page.getByLabel('Status').inputValue()).toBe('failed');
    await expect.poll(() => page.locator('tr[data-job-id]').count()).toBe(1);

    await nav('Failures');
    await page.getByRole('link', { name: /mailbox unavailable/ }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('q')).toBe('Error: mailbox unavailable');
    await expect.poll(() => page.locator('tr[data-job-id]').count()).toBe(1);
    await nav('Failures');
    await shoot('failures');

    await nav('Overview');
    await page.getByRole('heading', { name: /Healthy|Needs attention/ }).waitFor();
    await page.getByText('Top failure groups').waitFor();
    await shoot('overview');
  }, 120_000);

  it('as an admin: creates a schedule with a cron preview, triggers it, pauses it', async () => {
    await nav('Schedules');
    await page.getByLabel('Cron').fill('30 6 * * 1-5');
    await page.getByText('At 06:30, on Monday to Friday').waitFor();
    await page.getByLabel('Time zone').fill('Europe/Berlin');
    await page.getByText(/^Next: /).waitFor();
    await page.getByRole('button', { name: 'Create schedule' }).click();
    await page.getByRole('status').filter({ hasText: 'Created' }).waitFor();
    await page.getByRole('button', { name: 'Trigger now' }).click();
    await page.getByRole('status').filter({ hasText: 'Triggered' }).waitFor();
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByRole('button', { name: 'Resume' }).waitFor();
    await shoot('schedules');
    await signOut();
  }, 60_000);

  it('as an operator: a bulk retry by filter, dry run first, with progress and per-job results; webhooks', async () => {
    await t.server.database.db.insert(webhookEvents).values({ id: randomUUID(), source: 'github', event: 'push', deliveryId: 'delivery-1', organizationId: 1, payload: { ref: 'main' } });
    await devSignIn('operator');
    await nav('Bulk');
    await page.getByLabel('Type').selectOption('send-email');
    await page.getByLabel('Status').selectOption('failed');
    await page.getByLabel('Organization').fill('1');
    await page.getByRole('button', { name: 'Dry run' }).click();
    expect(await page.getByTestId('dry-run-count').textContent()).toBe('1');
    await shoot('bulk-dry-run');
    await page.getByRole('button', { name: 'Run retry' }).click();
    await page.getByRole('button', { name: 'Confirm run retry' }).click();
    await page.getByTestId('bulk-status').filter({ hasText: /^completed: 1 of 1 processed, 1 retried/ }).waitFor({ timeout: 15_000 });
    await page.getByRole('cell', { name: 'retried' }).waitFor();
    await shoot('bulk-done');

    await nav('Webhooks');
    await page.getByRole('cell', { name: 'github' }).waitFor();
    await page.getByRole('button', { name: 'Replay' }).click();
    await page.getByRole('button', { name: 'Confirm replay' }).click();
    await page.getByRole('heading', { name: /Jobs of event/ }).waitFor();
    await page.locator('.card li').first().waitFor();
    await shoot('webhooks');

    await nav('Jobs');
    await page.getByLabel('Organization').waitFor(); // operators filter by organization
    await signOut();
  }, 60_000);

  it('as a member of another organization: sees none of it, and the server refuses what the UI hides', async () => {
    const token = await signToken({ userId: '5', organizationId: 2, role: 'member' }, DEV_AUTH_SECRET);
    await go('/');
    await page.getByLabel('Bearer token').fill(token);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByText('member · org 2').waitFor();
    const menu = await page.getByRole('navigation', { name: 'Screens' }).getByRole('link').allTextContents();
    expect(menu).toEqual(['Overview', 'Jobs', 'Schedules', 'Enqueue']);
    await nav('Overview');
    await page.getByText('Nothing waiting or running.').waitFor();
    await nav('Jobs');
    await page.getByText('No jobs match.').waitFor();
    await shoot('member-jobs');
    await nav('Schedules');
    await page.getByText('No schedules yet.').waitFor();
    // Another organization's job by URL: not found.
    const [adminJob] = await queryRows<{ job_id: string }>(t.server.database.db, sql`SELECT job_id FROM job_executions WHERE organization_id = 1 LIMIT 1`);
    const jobId = adminJob!.job_id;
    await go(`/jobs/${jobId}`);
    await page.getByRole('alert').filter({ hasText: 'not found' }).waitFor();
    // Pages the menu hides are refused by the server too.
    await go('/failures');
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await signOut();
    // A refused token is reported on the sign-in page.
    await page.getByLabel('Bearer token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'refused' }).waitFor();
  }, 60_000);

  it('made no request to another host and broke no content-security rule', () => {
    expect(foreign).toEqual([]);
    expect(problems).toEqual([]);
  });
});
