import type { Logger } from '../logger.ts';

/**
 * The security events jobwire logs, one warn line each with `event: 'security.<name>'`, so an
 * alert can match on a single field (OWASP: monitor cross-tenant attempts and forged callbacks).
 */
export const SECURITY_EVENTS = {
  /** A delivery or webhook whose signature, issuer, subject URL or age does not verify. */
  forgedDelivery: 'security.forged_delivery',
  /** A Stripe or generic webhook whose signature does not verify. */
  forgedWebhook: 'security.forged_webhook',
  /** A caller asked for a job or schedule that exists, in another organization. */
  crossTenant: 'security.cross_tenant',
  /** An organization went over its enqueue rate (logged once per burst, not per refused call). */
  rateLimited: 'security.rate_limited',
  /** A user, organization or the process reached its cap of open live streams (once per burst). */
  subscriptionLimited: 'security.subscription_limited',
} as const;

export type SecurityEvent = (typeof SECURITY_EVENTS)[keyof typeof SECURITY_EVENTS];

export function logSecurityEvent(log: Logger, event: SecurityEvent, fields: Record<string, unknown>, message: string): void {
  log.warn({ ...fields, event }, message);
}
