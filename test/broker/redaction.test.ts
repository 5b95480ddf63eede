import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, TOKEN, type Harness } from './support/harness.ts';
import { waitFor } from './support/waitFor.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const redacted = (value: string) => `REDACTED:${createHash('sha256').update(value).digest('hex')}`;
const SECRET_BODY = { card: '4242 4242 4242 4242' };
const bodyText = JSON.stringify(SECRET_BODY);

/** Everything the API shows about a message: its log entries, its pending view and its DLQ entry, as JSON text. */
async function everythingShown(messageId: string): Promise<string> {
  const { logs } = await h.client.logs({ filter: { messageId } });
  const dlq = await h.client.dlq.listMessages({ filter: { messageId } });
  return JSON.stringify({ logs, dlq });
}

describe('Upstash-Redact-Fields', () => {
  it('redact body and every header: the API and log show REDACTED:<sha256>, the destination gets the originals', async () => {
    const { messageId } = await h.client.publishJSON({
      url: h.destination.url('/redact/all'),
      body: SECRET_BODY,
      headers: { Authorization: 'Bearer top-secret' },
      delay: 3600,
      redact: { body: true, header: true },
    });
    const pending = await h.client.messages.get(messageId);
    expect(pending.body).toBe(redacted(bodyText));
    expect(pending.header?.Authorization).toEqual([redacted('Bearer top-secret')]);
    expect(pending.header?.['Content-Type']).toEqual([redacted('application/json')]);
    const shown = await everythingShown(messageId);
    expect(shown).not.toContain('top-secret');
    expect(shown).not.toContain('4242');
    expect(shown).toContain(Buffer.from(redacted(bodyText)).toString('base64')); // log bodies are base64
    // Raw HTTP shows the same.
    const res = await fetch(`${h.broker.url}/v2/messages/${messageId}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(await res.text()).not.toContain('top-secret');
    await h.client.messages.cancel(messageId);
  });

  it('redacts only the named header; the failed message stays redacted in the DLQ, and a DLQ retry delivers the originals', async () => {
    const path = '/redact/named';
    let healthy = false;
    h.destination.on(path, () => ({ status: healthy ? 200 : 500 }));
    const { messageId } = await h.client.publishJSON({
      url: h.destination.url(path),
      body: SECRET_BODY,
      headers: { Authorization: 'Bearer named-secret', 'X-Visible': 'shown' },
      retries: 0,
      redact: { header: ['Authorization'] },
    });
    const entry = await waitFor(async () => (await h.client.dlq.listMessages({ filter: { messageId } })).messages[0], { what: 'the DLQ entry' });
    expect(entry.header?.Authorization).toEqual([redacted('Bearer named-secret')]);
    expect(entry.header?.['X-Visible']).toEqual(['shown']);
    expect(entry.body).toBe(bodyText);
    expect(await everythingShown(messageId)).not.toContain('named-secret');
    const first = h.destination.received(path)[0];
    expect(first?.headers.authorization).toBe('Bearer named-secret');

    healthy = true;
    const { responses } = await h.client.dlq.retry(entry.dlqId);
    const again = await waitFor(() => h.destination.received(path).find((r) => r.headers['upstash-message-id'] === responses[0]?.messageId));
    expect(again.headers.authorization).toBe('Bearer named-secret');
    expect(again.body.toString()).toBe(bodyText);
    const retriedLogs = JSON.stringify((await h.client.logs({ filter: { messageId: responses[0]!.messageId } })).logs);
    expect(retriedLogs).not.toContain('named-secret');
  });

  it('a body-redacted message keeps its callback body (which quotes the source) out of the log too', async () => {
    const { messageId } = await h.client.publishJSON({
      url: h.destination.url('/redact/cb-source'),
      body: SECRET_BODY,
      callback: h.destination.url('/redact/cb'),
      redact: { body: true },
    });
    const callback = await waitFor(() => h.destination.received('/redact/cb')[0]);
    expect(JSON.parse(callback.body.toString()).sourceBody).toBe(Buffer.from(bodyText).toString('base64'));
    const { logs } = await h.client.logs({ filter: { url: h.destination.url('/redact/cb') } });
    expect(logs.length).toBeGreaterThan(0);
    expect(JSON.stringify(logs)).not.toContain(Buffer.from(bodyText).toString('base64'));
    expect(await everythingShown(messageId)).not.toContain('4242');
  });

  it('schedules show their redacted template; unknown fields are a 400', async () => {
    const { scheduleId } = await h.client.schedules.create({
      destination: h.destination.url('/redact/schedule'),
      cron: '0 0 1 1 *',
      body: bodyText,
      headers: { Authorization: 'Bearer sched-secret' },
      redact: { body: true, header: ['authorization'] },
    } as Parameters<typeof h.client.schedules.create>[0]);
    const schedule = await h.client.schedules.get(scheduleId);
    expect(JSON.stringify(schedule)).not.toContain('sched-secret');
    expect(schedule.body).toBe(redacted(bodyText));
    const res = await fetch(`${h.broker.url}/v2/publish/${h.destination.url('/redact/bad')}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Upstash-Redact-Fields': 'bodyy' },
      body: 'x',
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('bodyy');
  });
});
