import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobEvent } from '../../shared/jobEvent.ts';
import { TEST_DRIVER } from '../support/testDatabase.ts';
import { startTestServer, type TestServer } from '../support/testServer.ts';
import type { JobHandler } from '../../server/jobs/handlers.ts';
import type { PageApi } from './browser/entry.ts';

// The client in a real browser (Debian's Chromium, driven by playwright-core): the bundle a
// frontend would ship, its native EventSource, a page on another origin than the API (CORS), and
// the token travelling as connectionParams. `.ci/run` installs Chromium and sets
// JOBWIRE_REQUIRE_BROWSER, so CI cannot skip this; elsewhere it runs when Chromium is present.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.JOBWIRE_REQUIRE_BROWSER) throw new Error(`JOBWIRE_REQUIRE_BROWSER is set but there is no Chromium at ${CHROMIUM}`);

/** Plain data of the events the page saw (what `page.evaluate` can return). */
type SeenEvent = Pick<JobEvent, 'eventId' | 'status' | 'progress'>;

const stepped: JobHandler<'send-email'> = async (payload, ctx) => {
  await ctx.progress(0.5);
  await new Promise((r) => setTimeout(r, 300)); // past the progress throttle
  return { sent: payload.to };
};

// The browser path does not depend on the database driver: it runs once, in the pglite project.
describe.runIf(hasChromium && TEST_DRIVER === 'pglite')('the client in a browser', () => {
  let t: TestServer;
  let site: Server;
  let siteUrl: string;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    const bundle = await build({ entryPoints: ['test/client/browser/entry.ts'], bundle: true, format: 'esm', platform: 'browser', target: 'chrome120', write: false });
    const script = bundle.outputFiles[0]!.text; // one entry point, one output
    site = createServer((request, response) => {
      if (request.url === '/app.js') return void response.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
      response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title><script type="module" src="/app.js"></script>');
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`; // a TCP listener's address
    t = await startTestServer({ handlers: { 'send-email': stepped }, security: { corsOrigins: [siteUrl] } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage();
    await page.goto(siteUrl);
    await page.waitForFunction(() => 'jobwire' in globalThis);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await t?.stop();
    await new Promise((resolve) => site?.close(resolve));
  });

  it('follows a job live with the native EventSource, and waitForJob resolves on the stream', async () => {
    const token = await t.token({ organizationId: 71 });
    const seen = await page.evaluate(
      async ({ url, token }) => {
        const { jobwire } = globalThis as unknown as { jobwire: PageApi }; // set by the page script
        const client = jobwire.createJobsClient({ url, token });
        const { jobId } = await client.jobs.enqueue.mutate({ type: 'send-email', payload: { to: 'browser@example.com', template: 'welcome', data: { recipientName: 'Browser' } } });
        const events: SeenEvent[] = [];
        const [watched, job] = await Promise.all([
          new Promise<SeenEvent[]>((resolve, reject) =>
            jobwire.watchJob(client, jobId, {
              lastEventId: '0', // from the very first event
              onEvent: ({ eventId, status, progress }) => void events.push({ eventId, status, progress }),
              onComplete: () => resolve(events),
              onError: (error) => reject(new Error(String(error))),
            }),
          ),
          jobwire.waitForJob(client, jobId),
        ]);
        return { watched, finalStatus: job.status, eventSources: jobwire.eventSources() };
      },
      { url: `${t.server.url}/trpc`, token },
    );
    expect(seen.watched.map((e) => [e.status, e.progress])).toEqual([
      ['pending', null],
      ['processing', null],
      ['processing', 0.5],
      ['completed', 1],
    ]);
    expect(seen.finalStatus).toBe('completed');
    expect(seen.eventSources).toBeGreaterThanOrEqual(2); // watchJob's stream and waitForJob's
  });
});
