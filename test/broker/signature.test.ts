import { Receiver } from '@upstash/qstash';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { bodyHash, signDelivery } from '../../server/broker/delivery/signDelivery.ts';
import { QSTASH_DEV_CURRENT_SIGNING_KEY, QSTASH_DEV_NEXT_SIGNING_KEY } from '../../server/env.ts';
import type { RecordedRequest } from './support/destination.ts';
import { receiver, startHarness, verifyDelivery, type Harness } from './support/harness.ts';
import { waitFor } from './support/waitFor.ts';

let h: Harness;
let delivery: RecordedRequest;
beforeAll(async () => {
  h = await startHarness();
  await h.client.publish({ url: h.destination.url('/sig/real'), body: '{"amount":100}', headers: { 'Content-Type': 'application/json' } });
  delivery = await waitFor(() => h.destination.received('/sig/real')[0]);
});
afterAll(async () => {
  await h?.close();
});

const signatureOf = (req: RecordedRequest) => String(req.headers['upstash-signature']);

describe('Upstash-Signature', () => {
  it('is a JWT with the claims QStash sets', async () => {
    await verifyDelivery(delivery);
    const [header, payload] = signatureOf(delivery).split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>);
    expect(header).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(payload).toMatchObject({ iss: 'Upstash', sub: delivery.url });
    expect(payload?.exp).toBe(Number(payload?.iat) + 300);
    expect(payload?.nbf).toBe(payload?.iat);
    expect(String(payload?.jti)).toMatch(/^jwt_/);
    expect(String(payload?.body)).toMatch(/=$/);
  });

  it('is rejected for an altered body', async () => {
    await expect(receiver.verify({ signature: signatureOf(delivery), body: '{"amount":1000}', url: delivery.url })).rejects.toThrow(/body hash does not match/);
  });

  it('is rejected for a different url', async () => {
    await expect(receiver.verify({ signature: signatureOf(delivery), body: delivery.body.toString(), url: h.destination.url('/sig/other') })).rejects.toThrow(/invalid subject/);
  });

  it('is rejected by a receiver holding other keys', async () => {
    const stranger = new Receiver({ currentSigningKey: 'sig_someoneElse1', nextSigningKey: 'sig_someoneElse2' });
    await expect(stranger.verify({ signature: signatureOf(delivery), body: delivery.body.toString(), url: delivery.url })).rejects.toThrow();
  });

  it('rejects a forged token signed with a wrong key, and a tampered signature', async () => {
    const forged = signDelivery({ key: 'sig_attacker', url: delivery.url, body: delivery.body, nowMs: Date.now() });
    await expect(receiver.verify({ signature: forged, body: delivery.body.toString(), url: delivery.url })).rejects.toThrow();
    const parts = signatureOf(delivery).split('.');
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString()) as Record<string, unknown>;
    const tampered = [parts[0], Buffer.from(JSON.stringify({ ...claims, sub: 'https://evil.example' })).toString('base64url'), parts[2]].join('.');
    await expect(receiver.verify({ signature: tampered, body: delivery.body.toString() })).rejects.toThrow();
  });

  it('accepts a token signed with the next key (rotation)', async () => {
    const rotated = signDelivery({ key: QSTASH_DEV_NEXT_SIGNING_KEY, url: delivery.url, body: delivery.body, nowMs: Date.now() });
    await expect(receiver.verify({ signature: rotated, body: delivery.body.toString(), url: delivery.url })).resolves.toBe(true);
  });

  it('a broker whose current key is the receiver’s next key still verifies', async () => {
    const other = await startHarness({ currentSigningKey: QSTASH_DEV_NEXT_SIGNING_KEY, nextSigningKey: 'sig_future' });
    try {
      await other.client.publish({ url: other.destination.url('/sig/next'), body: 'rotated' });
      const req = await waitFor(() => other.destination.received('/sig/next')[0]);
      const verifier = new Receiver({ currentSigningKey: QSTASH_DEV_CURRENT_SIGNING_KEY, nextSigningKey: QSTASH_DEV_NEXT_SIGNING_KEY });
      await expect(verifier.verify({ signature: signatureOf(req), body: 'rotated', url: req.url })).resolves.toBe(true);
    } finally {
      await other.close();
    }
  });

  it('signed with node:crypto, verifies with the official Receiver under the current and the next key, and fails once any part is altered', async () => {
    const url = 'https://app.example/api/jobs/email';
    const body = Buffer.from('{"jobId":"j1"}');
    for (const key of [QSTASH_DEV_CURRENT_SIGNING_KEY, QSTASH_DEV_NEXT_SIGNING_KEY]) {
      const token = signDelivery({ key, url, body, nowMs: Date.now() });
      await expect(receiver.verify({ signature: token, body: body.toString(), url })).resolves.toBe(true);
      const parts = token.split('.');
      for (let i = 0; i < 3; i++) {
        const altered = parts.map((part, j) => (j === i ? part.slice(0, -2) + (part.at(-2) === 'A' ? 'B' : 'A') + part.at(-1) : part)).join('.');
        await expect(receiver.verify({ signature: altered, body: body.toString(), url })).rejects.toThrow();
      }
    }
    const claims = JSON.parse(Buffer.from(signDelivery({ key: 'k', url, body, nowMs: 1_700_000_000_500 }).split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(Object.keys(claims)).toEqual(['iss', 'sub', 'exp', 'nbf', 'iat', 'jti', 'body']);
    expect(claims).toMatchObject({ iss: 'Upstash', sub: url, iat: 1_700_000_000, nbf: 1_700_000_000, exp: 1_700_000_300 });
    expect(claims.body).toBe(createHash('sha256').update(body).digest('base64').replace(/\+/g, '-').replace(/\//g, '_'));
    expect(bodyHash(Buffer.alloc(0))).toBe('47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=');
  });
});
