import { z } from 'zod';

const HeaderName = z
  .string()
  .regex(/^[A-Za-z0-9-]{1,100}$/, 'header names are letters, digits and dashes')
  .transform((h) => h.toLowerCase());

/**
 * One configured sender of generic webhooks, served at `POST /api/webhooks/<name>`.
 * Header names default per verifier (see `resolveWebhookSource`).
 */
export const WebhookSource = z
  .object({
    /** The `:source` route segment, e.g. `github`. */
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,99}$/, 'source names are lower-case letters, digits, - and _'),
    /** `github`: `X-Hub-Signature-256: sha256=<hex>`; `hmac-sha256`: a hex HMAC-SHA256 of the body in `signatureHeader`. */
    verify: z.enum(['github', 'hmac-sha256']),
    /** The shared secret the sender signs with. */
    secret: z.string().min(1),
    /**
     * `hmac-sha256` only: `signatureHeader` is `t=<unix seconds>,v1=<hex>` (Stripe's scheme), the
     * HMAC over `${t}.${body}`, refused more than 5 minutes from now. Default false.
     */
    timestamped: z.boolean().optional(),
    signatureHeader: HeaderName.optional(),
    deliveryIdHeader: HeaderName.optional(),
    eventHeader: HeaderName.optional(),
    /** The organization this source's events belong to (and whose admins may list and replay them). Default none. */
    organizationId: z.number().int().positive().optional(),
  })
  .refine((s) => !s.timestamped || s.verify === 'hmac-sha256', { message: 'timestamped signatures are for hmac-sha256 sources', path: ['timestamped'] });
export type WebhookSource = z.input<typeof WebhookSource>;

/** A source with every header name filled in. */
export type ResolvedWebhookSource = z.output<typeof WebhookSource> & {
  signatureHeader: string;
  deliveryIdHeader: string;
  eventHeader: string;
};

const DEFAULT_HEADERS = {
  github: { signatureHeader: 'x-hub-signature-256', deliveryIdHeader: 'x-github-delivery', eventHeader: 'x-github-event' },
  'hmac-sha256': { signatureHeader: 'x-webhook-signature', deliveryIdHeader: 'x-webhook-id', eventHeader: 'x-webhook-event' },
} as const;

/** Validates a source and fills in the verifier's default header names. */
export function resolveWebhookSource(input: WebhookSource): ResolvedWebhookSource {
  const source = WebhookSource.parse(input);
  return { ...DEFAULT_HEADERS[source.verify], ...stripUndefined(source) };
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T; // same keys, minus absent ones
}

/** `WEBHOOK_SOURCES`: a JSON array of sources, e.g. `[{"name":"github","verify":"github","secret":"…"}]`. */
export const WebhookSourcesJson = z
  .string()
  .trim()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'WEBHOOK_SOURCES must be a JSON array of { name, verify, secret, … }' });
      return z.NEVER;
    }
  })
  .pipe(z.array(WebhookSource).refine((list) => new Set(list.map((s) => s.name)).size === list.length, 'source names must be unique'));
