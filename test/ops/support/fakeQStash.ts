import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import { startTestServer, type TestServer } from '../../support/testServer.ts';

export interface FakePublish {
  destination: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  messageId: string;
}

/**
 * QStash cloud as far as publishing goes: accepts publishes (one or a `/v2/batch`) and cancels, records them, and
 * delivers nothing. Lets a test hand 10,000 jobs to "the broker" without running 10,000 handlers.
 */
export async function startFakeQStash() {
  const published: FakePublish[] = [];
  const cancelled: string[] = [];
  let held: Array<() => void> | undefined; // requests read while publishes are held, answered on release
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => (held ? held.push(answer) : answer()));
    function answer() {
      const url = req.url ?? '';
      if (req.method === 'POST' && url.startsWith('/v2/publish/')) {
        const messageId = `msg_${randomUUID()}`;
        published.push({ destination: decodeURIComponent(url.slice('/v2/publish/'.length)), headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')), messageId });
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ messageId }));
      } else if (req.method === 'POST' && url === '/v2/batch') {
        // The SDK's batch: a JSON array of { destination, headers (lowercased), body (a string) }, one answer each.
        const items = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Array<{ destination: string; headers: Record<string, string>; body?: string }>;
        const answers = items.map((item) => {
          const messageId = `msg_${randomUUID()}`;
          published.push({ destination: item.destination, headers: item.headers, body: item.body === undefined ? undefined : JSON.parse(item.body), messageId });
          return { messageId, url: item.destination };
        });
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(answers));
      } else if (req.method === 'DELETE' && url.startsWith('/v2/messages/')) {
        cancelled.push(decodeURIComponent(url.slice('/v2/messages/'.length)));
        res.writeHead(202).end();
      } else {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found' }));
      }
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo; // listening on TCP
  return {
    url: `http://127.0.0.1:${port}`,
    published,
    cancelled,
    /** Leaves every request unanswered until the returned release is called. */
    hold(): () => void {
      const waiting: Array<() => void> = (held = []);
      return () => {
        if (held === waiting) held = undefined;
        for (const answer of waiting.splice(0)) answer(); // once, however often released
      };
    },
    qstashConfig() {
      return { baseUrl: `http://127.0.0.1:${port}`, token: 'fake-token', signingKeys: { current: 'sig_fake_current', next: 'sig_fake_next' } };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type FakeQStash = Awaited<ReturnType<typeof startFakeQStash>>;

/**
 * For a test file: the whole server on a fake broker, which never delivers, and with no sweeper
 * pass after the first, so job rows stay as the file's own calls leave them. Started before the
 * file's tests and stopped after them; the answer reads the running server.
 */
export function serverOnFakeBroker(): () => TestServer & { broker: FakeQStash } {
  let fake: FakeQStash | undefined;
  let t: TestServer | undefined;
  beforeAll(async () => {
    fake = await startFakeQStash();
    t = await startTestServer({ qstash: fake.qstashConfig(), sweeper: { intervalMs: 3_600_000 } });
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await fake?.close();
  });
  return () => Object.assign(t!, { broker: fake! }); // set before any test runs
}
