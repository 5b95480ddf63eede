import { QstashError } from '@upstash/qstash';
import { Client } from '@upstash/qstash';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, TOKEN, verifyDelivery, type Harness } from './support/harness.ts';
import { sleep, waitFor } from './support/waitFor.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('publish', () => {
  it('delivers the body byte for byte with the documented headers and a valid signature', async () => {
    const path = '/publish/basic';
    const res = await h.client.publish({
      url: `${h.destination.url(path)}?a=1&b=two`,
      body: 'héllo wörld',
      headers: { 'X-Custom': 'yes', 'Content-Type': 'text/plain' },
    });
    expect(res.messageId).toMatch(/^msg_/);
    const req = await waitFor(() => h.destination.received(path)[0]);
    expect(req.path).toBe(`${path}?a=1&b=two`);
    expect(req.method).toBe('POST');
    expect(req.body.toString('utf8')).toBe('héllo wörld');
    expect(req.headers['x-custom']).toBe('yes');
    expect(req.headers['content-type']).toBe('text/plain');
    expect(req.headers['user-agent']).toBe('Upstash-QStash');
    expect(req.headers['upstash-message-id']).toBe(res.messageId);
    expect(req.headers['upstash-retried']).toBe('0');
    expect(req.headers['upstash-caller-ip']).toBe('127.0.0.1');
    expect(req.headers['upstash-forward-x-custom']).toBeUndefined();
    expect(req.headers['upstash-telemetry-sdk']).toBeUndefined();
    await expect(verifyDelivery(req)).resolves.toBe(true);
  });

  it('publishJSON sends JSON with the method asked for', async () => {
    const path = '/publish/json';
    await h.client.publishJSON({ url: h.destination.url(path), body: { hello: 'world', n: 1 }, method: 'PUT' });
    const req = await waitFor(() => h.destination.received(path)[0]);
    expect(req.method).toBe('PUT');
    expect(req.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req.body.toString())).toEqual({ hello: 'world', n: 1 });
    await verifyDelivery(req);
  });

  it('batchJSON publishes every item, each to its own destination', async () => {
    const results = await h.client.batchJSON([
      { url: h.destination.url('/batch/a'), body: { i: 1 } },
      { url: h.destination.url('/batch/b'), body: { i: 2 }, headers: { 'X-Item': 'b' } },
      { url: h.destination.url('/batch/c'), body: { i: 3 }, delay: 1 },
    ]);
    expect(results).toHaveLength(3);
    for (const r of results) expect((r as { messageId: string }).messageId).toMatch(/^msg_/);
    await waitFor(() => ['/batch/a', '/batch/b', '/batch/c'].every((p) => h.destination.received(p).length === 1), { what: 'batch deliveries' });
    const b = h.destination.received('/batch/b')[0];
    expect(b?.headers['x-item']).toBe('b');
    expect(JSON.parse(String(b?.body))).toEqual({ i: 2 });
    for (const p of ['/batch/a', '/batch/b', '/batch/c']) await verifyDelivery(h.destination.received(p)[0]!);
  });

  it('honours delay: not before the delay, and soon after it', async () => {
    const path = '/publish/delay';
    const sentAt = Date.now();
    await h.client.publish({ url: h.destination.url(path), body: 'later', delay: 2 });
    const req = await waitFor(() => h.destination.received(path)[0], { timeoutMs: 10_000 });
    expect(req.receivedAt - sentAt).toBeGreaterThanOrEqual(1900);
    expect(req.receivedAt - sentAt).toBeLessThan(6000);
  });

  it('honours notBefore (unix seconds)', async () => {
    const path = '/publish/not-before';
    const notBefore = Math.ceil(Date.now() / 1000) + 2;
    const { messageId } = await h.client.publish({ url: h.destination.url(path), body: 'nb', notBefore });
    const pending = await h.client.messages.get(messageId);
    expect(pending.notBefore).toBe(notBefore * 1000);
    const req = await waitFor(() => h.destination.received(path)[0], { timeoutMs: 10_000 });
    expect(req.receivedAt).toBeGreaterThanOrEqual(notBefore * 1000 - 50);
    expect(req.receivedAt).toBeLessThan(notBefore * 1000 + 4000);
  });

  it('messages.get returns the pending message; cancel means it is never delivered', async () => {
    const path = '/publish/cancel';
    const { messageId } = await h.client.publish({
      url: h.destination.url(path),
      body: 'never',
      delay: 2,
      retries: 2,
      retryDelay: '100 * (retried + 1)',
      callback: h.destination.url('/cb/unused'),
      label: 'cancel-me',
      headers: { 'X-Keep': 'k' },
    });
    const message = await h.client.messages.get(messageId);
    expect(message).toMatchObject({
      messageId,
      url: h.destination.url(path),
      method: 'POST',
      body: 'never',
      maxRetries: 2,
      retryDelayExpression: '100 * (retried + 1)',
      callback: h.destination.url('/cb/unused'),
      labels: ['cancel-me'],
    });
    expect(message.header?.['X-Keep']).toEqual(['k']);
    expect(message.createdAt).toBeGreaterThan(Date.now() - 10_000);
    expect(message.notBefore).toBeGreaterThan(message.createdAt + 1500);
    const result = await h.client.messages.cancel(messageId);
    expect(result.cancelled).toBe(1);
    await expect(h.client.messages.get(messageId)).rejects.toMatchObject({ status: 404 });
    await sleep(2500);
    expect(h.destination.received(path)).toHaveLength(0);
  });

  it('bulk cancel by ids and by label', async () => {
    const path = '/publish/bulk-cancel';
    const a = await h.client.publish({ url: h.destination.url(path), body: 'a', delay: 60 });
    const b = await h.client.publish({ url: h.destination.url(path), body: 'b', delay: 60 });
    const c = await h.client.publish({ url: h.destination.url(path), body: 'c', delay: 60, label: 'bulk-x' });
    expect((await h.client.messages.cancel([a.messageId, b.messageId])).cancelled).toBe(2);
    expect((await h.client.messages.cancel({ filter: { label: 'bulk-x' } })).cancelled).toBe(1);
    await expect(h.client.messages.get(c.messageId)).rejects.toMatchObject({ status: 404 });
  });

  it('deduplicates by id: same messageId, deduplicated flag, one delivery', async () => {
    const path = '/publish/dedup';
    const first = await h.client.publish({ url: h.destination.url(path), body: 'one', deduplicationId: 'dedup-1' });
    const second = await h.client.publish({ url: h.destination.url(path), body: 'two', deduplicationId: 'dedup-1' });
    expect(second.messageId).toBe(first.messageId);
    expect(second.deduplicated).toBe(true);
    expect(first.deduplicated).toBeFalsy();
    await waitFor(() => h.destination.received(path).length === 1);
    await sleep(300);
    expect(h.destination.received(path)).toHaveLength(1);
    expect(h.destination.received(path)[0]?.body.toString()).toBe('one');
  });

  it('deduplicates by content', async () => {
    const path = '/publish/content-dedup';
    const a = await h.client.publishJSON({ url: h.destination.url(path), body: { x: 1 }, contentBasedDeduplication: true });
    const b = await h.client.publishJSON({ url: h.destination.url(path), body: { x: 1 }, contentBasedDeduplication: true });
    const c = await h.client.publishJSON({ url: h.destination.url(path), body: { x: 2 }, contentBasedDeduplication: true });
    expect(b).toMatchObject({ messageId: a.messageId, deduplicated: true });
    expect(c.messageId).not.toBe(a.messageId);
    await waitFor(() => h.destination.received(path).length === 2);
    await sleep(300);
    expect(h.destination.received(path)).toHaveLength(2);
  });

  it('the events log records the states of a message, newest first, with a cursor', async () => {
    const path = '/publish/events';
    const { messageId } = await h.client.publish({ url: h.destination.url(path), body: 'log me' });
    await waitFor(async () => (await h.client.logs({ filter: { messageId } })).logs.some((e) => e.state === 'DELIVERED'));
    const { logs } = await h.client.logs({ filter: { messageId } });
    expect(logs.map((e) => e.state)).toEqual(['DELIVERED', 'ACTIVE', 'CREATED']);
    expect(logs[0]).toMatchObject({ messageId, url: h.destination.url(path) });
    const page1 = await h.client.logs({ count: 2 });
    expect(page1.logs).toHaveLength(2);
    expect(page1.cursor).toBeTruthy();
    const page2 = await h.client.logs({ count: 2, cursor: page1.cursor });
    expect(page2.logs[0]?.time).toBeLessThanOrEqual(page1.logs[1]!.time);
    const delivered = await h.client.logs({ filter: { state: 'DELIVERED', messageId } });
    expect(delivered.logs).toHaveLength(1);
  });
});

describe('url groups', () => {
  it('fans a publish out to every endpoint, each with its own message and signature', async () => {
    await h.client.urlGroups.addEndpoints({ name: 'fanout', endpoints: [{ url: h.destination.url('/group/a') }, { name: 'b', url: h.destination.url('/group/b') }] });
    const results = await h.client.publish({ urlGroup: 'fanout', body: 'to all' });
    expect(Array.isArray(results)).toBe(true);
    expect(results).toHaveLength(2);
    await waitFor(() => h.destination.received('/group/a').length === 1 && h.destination.received('/group/b').length === 1);
    for (const p of ['/group/a', '/group/b']) {
      const req = h.destination.received(p)[0]!;
      expect(req.headers['upstash-topic-name']).toBe('fanout');
      await verifyDelivery(req);
    }
    const group = await h.client.urlGroups.get('fanout');
    expect(group.endpoints).toHaveLength(2);
    await h.client.urlGroups.removeEndpoints({ name: 'fanout', endpoints: [{ url: h.destination.url('/group/a') }] });
    expect((await h.client.urlGroups.get('fanout')).endpoints).toEqual([{ name: 'b', url: h.destination.url('/group/b') }]);
    await h.client.urlGroups.delete('fanout');
    expect((await h.client.urlGroups.list()).map((g) => g.name)).not.toContain('fanout');
  });
});

describe('errors', () => {
  it('rejects a destination without a scheme', async () => {
    const error = await h.client.publish({ url: 'example.com/hook', body: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QstashError);
    expect((error as QstashError).status).toBe(400);
    expect(JSON.parse((error as QstashError).message)).toEqual({ error: 'invalid destination url: endpoint has invalid scheme, add http:// or https://' });
  });

  it('rejects a bad delay and a bad retry-delay expression', async () => {
    await expect(h.client.publish({ url: h.destination.url('/x'), body: 'x', delay: '5 parsecs' as never })).rejects.toMatchObject({ status: 400 });
    await expect(h.client.publish({ url: h.destination.url('/x'), body: 'x', retryDelay: 'process.exit()' })).rejects.toMatchObject({ status: 400 });
  });

  it('answers 401 to a wrong or missing token', async () => {
    const wrong = new Client({ baseUrl: h.broker.url, token: 'not-the-token', retry: false });
    const error = await wrong.publish({ url: h.destination.url('/x'), body: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QstashError);
    expect((error as QstashError).status).toBe(401);
    const res = await fetch(`${h.broker.url}/v2/keys`);
    expect(res.status).toBe(401);
  });

  it('answers 404 for unknown messages and schedules', async () => {
    await expect(h.client.messages.get('msg_nope')).rejects.toMatchObject({ status: 404 });
    await expect(h.client.messages.cancel('msg_nope')).rejects.toMatchObject({ status: 404 });
    await expect(h.client.schedules.get('scd_nope')).rejects.toMatchObject({ status: 404 });
  });

  it('answers 413 to an oversized body', async () => {
    await expect(h.client.publish({ url: h.destination.url('/x'), body: 'x'.repeat(1024 * 1024 + 1) })).rejects.toMatchObject({ status: 413 });
  });

  it('survives malformed requests', async () => {
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const bad = await fetch(`${h.broker.url}/v2/batch`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: '{not json' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'invalid batch request: body must be a JSON array' });
    const queue = await fetch(`${h.broker.url}/v2/queues`, { method: 'POST', headers: auth, body: '[1,2' });
    expect(queue.status).toBe(400);
    const unknown = await fetch(`${h.broker.url}/v2/nope`, { headers: auth });
    expect(unknown.status).toBe(404);
    const huge = await fetch(`${h.broker.url}/v2/keys`, { headers: { ...auth, 'X-Big': 'y'.repeat(64 * 1024) } }).catch(() => undefined);
    expect(huge === undefined || huge.status >= 400).toBe(true);
    const keys = await h.client.http.request<{ current: string }>({ path: ['v2', 'keys'], method: 'GET' });
    expect(keys.current).toMatch(/^sig_/);
  });

  it('serves the dev keys on /v2/keys for the SDK dev-mode health check', async () => {
    const keys = await h.client.http.request<{ current: string; next: string }>({ path: ['v2', 'keys'], method: 'GET' });
    expect(keys).toEqual({ current: 'sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r', next: 'sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs' });
  });
});
