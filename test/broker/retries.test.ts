import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, verifyDelivery, type Harness } from './support/harness.ts';
import type { RecordedRequest } from './support/destination.ts';
import { sleep, waitFor } from './support/waitFor.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
const json = (req: RecordedRequest | undefined) => JSON.parse(String(req?.body)) as Record<string, unknown>;

describe('retries', () => {
  it('retries failed attempts with Upstash-Retried 0..n and the custom retry delay', async () => {
    const path = '/retry/flaky';
    h.destination.on(path, (_req, nth) => (nth < 2 ? { status: 500, body: 'boom' } : { status: 200 }));
    const { messageId } = await h.client.publish({ url: h.destination.url(path), body: 'again', retries: 3, retryDelay: '200 * (retried + 1)' });
    const reqs = await waitFor(() => h.destination.received(path).length === 3 && h.destination.received(path), { what: '3 attempts' });
    expect(reqs.map((r) => r.headers['upstash-retried'])).toEqual(['0', '1', '2']);
    expect(reqs.every((r) => r.headers['upstash-message-id'] === messageId)).toBe(true);
    // retried = 0 → 200 ms, retried = 1 → 400 ms.
    expect(reqs[1]!.receivedAt - reqs[0]!.receivedAt).toBeGreaterThanOrEqual(190);
    expect(reqs[2]!.receivedAt - reqs[1]!.receivedAt).toBeGreaterThanOrEqual(390);
    expect(reqs[2]!.receivedAt - reqs[0]!.receivedAt).toBeLessThan(4000);
    for (const r of reqs) await verifyDelivery(r);
    await sleep(300);
    expect(h.destination.received(path)).toHaveLength(3);
    const { logs } = await h.client.logs({ filter: { messageId } });
    expect(logs.map((l) => l.state)).toContain('RETRY');
    expect(logs[0]?.state).toBe('DELIVERED');
  });

  it('honours Retry-After from the destination', async () => {
    const path = '/retry/after';
    h.destination.on(path, (_req, nth) => (nth === 0 ? { status: 429, headers: { 'Retry-After': '1' } } : { status: 200 }));
    await h.client.publish({ url: h.destination.url(path), body: 'wait', retries: 2, retryDelay: '50' });
    const reqs = await waitFor(() => h.destination.received(path).length === 2 && h.destination.received(path), { what: 'retry after 1s' });
    const gap = reqs[1]!.receivedAt - reqs[0]!.receivedAt;
    expect(gap).toBeGreaterThanOrEqual(950);
    expect(gap).toBeLessThan(4000);
  });

  it('treats a timeout as a failed attempt', async () => {
    const path = '/retry/slow';
    h.destination.on(path, (_req, nth) => (nth === 0 ? { delayMs: 2000 } : { status: 200 }));
    await h.client.publish({ url: h.destination.url(path), body: 'slow', timeout: 1, retries: 1, retryDelay: '50' });
    const reqs = await waitFor(() => h.destination.received(path).length === 2 && h.destination.received(path), { what: 'second attempt' });
    expect(reqs[1]!.headers['upstash-retried']).toBe('1');
  });
});

describe('failure, DLQ and callbacks', () => {
  it('489 with Upstash-NonRetryable-Error fails at once into the DLQ and fires the failure callback', async () => {
    const path = '/fail/489';
    h.destination.on(path, () => ({ status: 489, headers: { 'Upstash-NonRetryable-Error': 'true' }, body: 'permanent' }));
    const { messageId } = await h.client.publish({
      url: h.destination.url(path),
      body: 'doomed',
      retries: 3,
      retryDelay: '50',
      failureCallback: h.destination.url('/fail/489-callback'),
    });
    const cb = await waitFor(() => h.destination.received('/fail/489-callback')[0]);
    await verifyDelivery(cb);
    expect(h.destination.received(path)).toHaveLength(1);
    const body = json(cb);
    expect(body).toMatchObject({ status: 489, retried: 0, maxRetries: 3, sourceMessageId: messageId, url: h.destination.url(path), method: 'POST' });
    expect(decode(body.body as string)).toBe('permanent');
    expect(decode(body.sourceBody as string)).toBe('doomed');
    expect(typeof body.dlqId).toBe('string');
    const { messages } = await h.client.dlq.listMessages({ filter: { messageId } });
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ messageId, dlqId: body.dlqId, responseStatus: 489, responseBody: 'permanent', body: 'doomed' });
  });

  it('exhausted retries land in the DLQ with the last response; dlq.retry redelivers', async () => {
    const path = '/fail/exhausted';
    let healthy = false;
    h.destination.on(path, () => (healthy ? { status: 200 } : { status: 503, headers: { 'X-Why': 'down' }, body: 'unavailable' }));
    const { messageId } = await h.client.publish({ url: h.destination.url(path), body: 'payload', retries: 2, retryDelay: '50', label: 'exhaust' });
    const entry = await waitFor(async () => (await h.client.dlq.listMessages({ filter: { messageId } })).messages[0], { what: 'DLQ entry' });
    expect(h.destination.received(path).map((r) => r.headers['upstash-retried'])).toEqual(['0', '1', '2']);
    expect(entry).toMatchObject({ messageId, url: h.destination.url(path), responseStatus: 503, responseBody: 'unavailable', maxRetries: 2, labels: ['exhaust'] });
    expect(entry.responseHeader?.['X-Why']).toEqual(['down']);
    expect(entry.dlqId).toMatch(/^\d+-\d+$/);
    await expect(h.client.messages.get(messageId)).rejects.toMatchObject({ status: 404 });
    const byLabel = await h.client.dlq.listMessages({ filter: { label: 'exhaust' } });
    expect(byLabel.messages.map((m) => m.dlqId)).toEqual([entry.dlqId]);

    healthy = true;
    const retried = await h.client.dlq.retry(entry.dlqId);
    expect(retried.responses).toHaveLength(1);
    const newId = retried.responses[0]!.messageId;
    expect(newId).not.toBe(messageId);
    const redelivered = await waitFor(() => h.destination.received(path).find((r) => r.headers['upstash-message-id'] === newId));
    expect(redelivered.headers['upstash-retried']).toBe('0');
    expect(redelivered.body.toString()).toBe('payload');
    expect((await h.client.dlq.listMessages({ filter: { messageId } })).messages).toHaveLength(0);
  });

  it('DLQ pages with a cursor and deletes entries', async () => {
    const path = '/fail/page';
    h.destination.on(path, () => ({ status: 400 }));
    for (let i = 0; i < 3; i++) await h.client.publish({ url: h.destination.url(path), body: `p${i}`, retries: 0, label: 'paging' });
    await waitFor(async () => (await h.client.dlq.listMessages({ filter: { label: 'paging' } })).messages.length === 3);
    const first = await h.client.dlq.listMessages({ filter: { label: 'paging' }, count: 2 });
    expect(first.messages).toHaveLength(2);
    expect(first.cursor).toBeTruthy();
    const second = await h.client.dlq.listMessages({ filter: { label: 'paging' }, count: 2, cursor: first.cursor });
    expect(second.messages).toHaveLength(1);
    expect(second.cursor).toBeUndefined();
    expect(await h.client.dlq.delete(first.messages[0]!.dlqId)).toEqual({ deleted: 1 });
    expect((await h.client.dlq.delete({ filter: { label: 'paging' } })).deleted).toBe(2);
  });

  it('the success callback carries the response and the source message', async () => {
    const path = '/cb/source';
    h.destination.on(path, () => ({ status: 201, headers: { 'X-Answer': '42' }, body: 'created!' }));
    const { messageId } = await h.client.publish({
      url: h.destination.url(path),
      body: 'source body',
      headers: { 'X-Src': 's' },
      callback: h.destination.url('/cb/success'),
      failureCallback: h.destination.url('/cb/never'),
      retries: 1,
    });
    const cb = await waitFor(() => h.destination.received('/cb/success')[0]);
    await verifyDelivery(cb);
    expect(cb.headers['content-type']).toBe('application/json');
    const body = json(cb);
    expect(body).toMatchObject({ status: 201, retried: 0, maxRetries: 1, sourceMessageId: messageId, url: h.destination.url(path), method: 'POST' });
    expect(decode(body.body as string)).toBe('created!');
    expect(decode(body.sourceBody as string)).toBe('source body');
    expect((body.header as Record<string, string[]>)['X-Answer']).toEqual(['42']);
    expect((body.sourceHeader as Record<string, string[]>)['X-Src']).toEqual(['s']);
    expect(typeof body.createdAt).toBe('number');
    expect(body.dlqId).toBeUndefined();
    await sleep(200);
    expect(h.destination.received('/cb/never')).toHaveLength(0);
  });

  it('the failure callback after exhausted retries has retried == maxRetries and the dlqId', async () => {
    const path = '/cb/failing';
    h.destination.on(path, () => ({ status: 500, body: 'nope' }));
    const { messageId } = await h.client.publish({ url: h.destination.url(path), body: 'f', retries: 1, retryDelay: '50', failureCallback: h.destination.url('/cb/failure') });
    const cb = await waitFor(() => h.destination.received('/cb/failure')[0]);
    const body = json(cb);
    expect(body).toMatchObject({ status: 500, retried: 1, maxRetries: 1, sourceMessageId: messageId });
    expect(decode(body.body as string)).toBe('nope');
    const { messages } = await h.client.dlq.listMessages({ filter: { messageId } });
    expect(messages[0]?.dlqId).toBe(body.dlqId);
  });
});
