import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWebhookBody, verifyWebhookSignature } from '../../server/webhooks/verifyWebhookSignature.ts';

const github = { verify: 'github', secret: "It's a Secret to Everybody" } as const;
const generic = { verify: 'hmac-sha256', secret: 'acme-secret' } as const;
// GitHub's documented example (docs "Validating webhook deliveries").
const GITHUB_EXAMPLE = { body: 'Hello, World!', header: 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17' };
const body = Buffer.from('{"action":"opened"}');
const hex = (secret: string) => createHmac('sha256', secret).update(body).digest('hex');

describe('GitHub X-Hub-Signature-256', () => {
  it("accepts GitHub's documented example and our own signature", () => {
    expect(verifyWebhookSignature(github, Buffer.from(GITHUB_EXAMPLE.body), GITHUB_EXAMPLE.header)).toEqual({ ok: true });
    expect(verifyWebhookSignature(github, body, signWebhookBody(github, body))).toEqual({ ok: true });
    expect(verifyWebhookSignature(github, body, `sha256=${hex(github.secret).toUpperCase()}`)).toEqual({ ok: true });
  });

  it('refuses a missing, empty or garbled header', () => {
    expect(verifyWebhookSignature(github, body, undefined)).toEqual({ ok: false, reason: 'signature header is missing' });
    expect(verifyWebhookSignature(github, body, '')).toMatchObject({ ok: false });
    for (const header of ['sha256=', 'sha256=zz', `sha1=${hex(github.secret).slice(0, 40)}`, hex(github.secret), `sha256=${hex(github.secret)}00`, `sha256=${hex(github.secret).slice(2)}`]) {
      expect(verifyWebhookSignature(github, body, header)).toEqual({ ok: false, reason: 'signature header is malformed' });
    }
  });

  it('refuses a wrong secret or a tampered body', () => {
    expect(verifyWebhookSignature(github, body, `sha256=${hex('wrong')}`)).toEqual({ ok: false, reason: 'signature does not match' });
    expect(verifyWebhookSignature(github, Buffer.from('{"action":"closed"}'), signWebhookBody(github, body))).toMatchObject({ ok: false });
  });
});

describe('generic HMAC-SHA256 header', () => {
  it('accepts the bare hex digest or a sha256= prefix', () => {
    expect(verifyWebhookSignature(generic, body, hex(generic.secret))).toEqual({ ok: true });
    expect(verifyWebhookSignature(generic, body, `sha256=${hex(generic.secret)}`)).toEqual({ ok: true });
  });

  it('refuses missing, garbled and wrong signatures', () => {
    expect(verifyWebhookSignature(generic, body, undefined)).toMatchObject({ ok: false });
    expect(verifyWebhookSignature(generic, body, 'not-hex')).toMatchObject({ ok: false });
    expect(verifyWebhookSignature(generic, body, hex('other'))).toMatchObject({ ok: false });
  });
});

describe('timestamped HMAC-SHA256 (t=…,v1=…)', () => {
  const timed = { verify: 'hmac-sha256', secret: 'acme-secret', timestamped: true } as const;
  const at = 1_700_000_000;
  const v1 = (t: number, secret: string = timed.secret) => createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');
  const verifyAt = (header: string, nowSeconds = at) => verifyWebhookSignature(timed, body, header, nowSeconds * 1000);

  it('accepts a signature over `${t}.${body}` within 5 minutes either way, and any of several v1', () => {
    expect(verifyAt(signWebhookBody(timed, body, at))).toEqual({ ok: true });
    expect(verifyAt(`t=${at},v1=${v1(at)}`, at + 300)).toEqual({ ok: true });
    expect(verifyAt(`t=${at},v1=${v1(at)}`, at - 300)).toEqual({ ok: true });
    expect(verifyAt(`t=${at}, v1=${v1(at, 'old')}, v1=${v1(at)}`)).toEqual({ ok: true });
  });

  it('refuses old or future timestamps, moved timestamps, the untimestamped form and garbled headers', () => {
    expect(verifyAt(`t=${at},v1=${v1(at)}`, at + 301)).toEqual({ ok: false, reason: 'signature timestamp is outside the tolerance' });
    expect(verifyAt(`t=${at},v1=${v1(at)}`, at - 301)).toMatchObject({ ok: false });
    expect(verifyAt(`t=${at + 1},v1=${v1(at)}`)).toEqual({ ok: false, reason: 'signature does not match' });
    expect(verifyAt(`t=${at},v1=${v1(at, 'wrong')}`)).toMatchObject({ ok: false });
    for (const header of [hex(timed.secret), `v1=${v1(at)}`, `t=${at}`, `t=${at},t=${at},v1=${v1(at)}`, `t=x${at},v1=${v1(at)}`, `t=${at},v1=${v1(at)}=`]) {
      expect(verifyAt(header), header).toEqual({ ok: false, reason: 'signature header is malformed' });
    }
  });
});
