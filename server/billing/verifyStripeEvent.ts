import { createRequire } from 'node:module';
import type Stripe from 'stripe';

// The SDK (hundreds of modules) is loaded with the first event verified, not at start-up (README
// "Start-up time"); verifying stays synchronous.
let sdk: typeof Stripe | undefined;
const stripeSdk = (): typeof Stripe => (sdk ??= createRequire(import.meta.url)('stripe') as typeof Stripe);

export type StripeVerifyResult = { ok: true; event: Stripe.Event } | { ok: false; reason: string };

export interface StripeVerifierOptions {
  webhookSecret: string;
  /** Largest accepted age of the signed timestamp, in seconds. Default Stripe's 300. */
  toleranceSeconds?: number;
}

export type StripeVerifier = (rawBody: Buffer, header: string | undefined) => StripeVerifyResult;

/**
 * Verifies `Stripe-Signature` over the raw body with the official SDK (several `v1=` signatures
 * during secret rolling, timestamp tolerance, constant-time compare) and parses the event.
 */
export function createStripeVerifier(options: StripeVerifierOptions): StripeVerifier {
  return (rawBody, header) => {
    if (!header) return { ok: false, reason: 'Stripe-Signature header is missing' };
    try {
      return { ok: true, event: stripeSdk().webhooks.constructEvent(rawBody, header, options.webhookSecret, options.toleranceSeconds) };
    } catch (error) {
      // Only the message: the SDK's error carries the payload, which may hold personal data.
      return { ok: false, reason: error instanceof Error ? error.message.slice(0, 200) : 'invalid signature' };
    }
  };
}
