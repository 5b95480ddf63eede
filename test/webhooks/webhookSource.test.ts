import { describe, expect, it } from 'vitest';
import { resolveWebhookSource, WebhookSourcesJson } from '../../server/webhooks/webhookSource.ts';

describe('webhook source configuration', () => {
  it("fills in each verifier's default headers, and keeps given ones (lower-cased)", () => {
    expect(resolveWebhookSource({ name: 'github', verify: 'github', secret: 's' })).toMatchObject({
      signatureHeader: 'x-hub-signature-256',
      deliveryIdHeader: 'x-github-delivery',
      eventHeader: 'x-github-event',
    });
    expect(resolveWebhookSource({ name: 'acme', verify: 'hmac-sha256', secret: 's', signatureHeader: 'X-Acme-Signature' })).toMatchObject({
      signatureHeader: 'x-acme-signature',
      deliveryIdHeader: 'x-webhook-id',
      eventHeader: 'x-webhook-event',
    });
  });

  it('refuses bad names, verifiers and empty secrets', () => {
    expect(() => resolveWebhookSource({ name: 'Has Space', verify: 'github', secret: 's' })).toThrow();
    expect(() => resolveWebhookSource({ name: 'x', verify: 'md5' as never, secret: 's' })).toThrow();
    expect(() => resolveWebhookSource({ name: 'x', verify: 'github', secret: '' })).toThrow();
    // GitHub signs the body alone: a timestamped GitHub source would refuse every delivery.
    expect(() => resolveWebhookSource({ name: 'x', verify: 'github', secret: 's', timestamped: true })).toThrow(/hmac-sha256/);
    expect(resolveWebhookSource({ name: 'x', verify: 'hmac-sha256', secret: 's', timestamped: true })).toMatchObject({ timestamped: true });
  });

  it('parses WEBHOOK_SOURCES as a JSON array with unique names', () => {
    expect(WebhookSourcesJson.parse('[{"name":"github","verify":"github","secret":"s","organizationId":1}]')).toEqual([
      { name: 'github', verify: 'github', secret: 's', organizationId: 1 },
    ]);
    expect(WebhookSourcesJson.safeParse('github:secret').success).toBe(false);
    expect(WebhookSourcesJson.safeParse('[{"name":"a","verify":"github","secret":"s"},{"name":"a","verify":"github","secret":"t"}]').success).toBe(false);
  });
});
