import { describe, expect, it } from 'vitest';
import { createStripeVerifier } from '../../server/billing/verifyStripeEvent.ts';
import { signStripe, STRIPE_WEBHOOK_SECRET, stripeEvent } from './stripeFixtures.ts';

const verify = createStripeVerifier({ webhookSecret: STRIPE_WEBHOOK_SECRET });
const payload = JSON.stringify(stripeEvent('invoice.payment_failed', { id: 'in_1', object: 'invoice' }, { id: 'evt_unit' }));
const body = Buffer.from(payload);
const now = () => Math.floor(Date.now() / 1000);
const v1 = (header: string) => header.split(',').find((p) => p.startsWith('v1='))!;

describe('Stripe-Signature verification (official SDK)', () => {
  it('accepts a header from the SDK test helper and returns the parsed event', () => {
    const result = verify(body, signStripe(payload));
    expect(result).toMatchObject({ ok: true, event: { id: 'evt_unit', type: 'invoice.payment_failed' } });
  });

  it('refuses a missing or empty header', () => {
    expect(verify(body, undefined)).toMatchObject({ ok: false, reason: expect.stringMatching(/missing/) });
    expect(verify(body, '')).toMatchObject({ ok: false });
  });

  it('refuses a garbled header and one without a v1 signature', () => {
    expect(verify(body, 'garbage')).toMatchObject({ ok: false });
    expect(verify(body, `t=${now()}`)).toMatchObject({ ok: false });
    expect(verify(body, `t=${now()},v0=${'a'.repeat(64)}`)).toMatchObject({ ok: false });
  });

  it('refuses a signature made with another secret, or over another body', () => {
    expect(verify(body, signStripe(payload, { secret: 'whsec_other' }))).toMatchObject({ ok: false });
    expect(verify(Buffer.from(payload.replace('in_1', 'in_2')), signStripe(payload))).toMatchObject({ ok: false });
  });

  it('accepts a header carrying several v1 signatures when one matches (secret rolling)', () => {
    const t = now();
    const good = v1(signStripe(payload, { timestamp: t }));
    const stale = v1(signStripe(payload, { timestamp: t, secret: 'whsec_old' }));
    expect(verify(body, `t=${t},${stale},${good}`)).toMatchObject({ ok: true });
    expect(verify(body, `t=${t},${stale}`)).toMatchObject({ ok: false });
  });

  it('refuses a timestamp outside the 300 s tolerance, even with a valid signature', () => {
    expect(verify(body, signStripe(payload, { timestamp: now() - 301 }))).toMatchObject({ ok: false, reason: expect.stringMatching(/tolerance/i) });
    expect(verify(body, signStripe(payload, { timestamp: now() - 200 }))).toMatchObject({ ok: true });
  });
});
