import { join, resolve } from 'node:path';
import { defaultPublicUrl, loadEnv, type Env } from './env.ts';
import { listenHost } from './http/listenHost.ts';
import { createLogger } from './logger.ts';
import type { ServerConfig } from './startServer.ts';

/**
 * The server `npm start` runs, as configuration read from the environment (`.env.example` lists
 * every variable): PGlite and the embedded broker unless `DATABASE_URL` / `QSTASH_TOKEN` say otherwise.
 */
export function serverConfigFromEnv(env: Env = loadEnv()): ServerConfig {
  if (env.QSTASH_TOKEN && (!env.QSTASH_CURRENT_SIGNING_KEY || !env.QSTASH_NEXT_SIGNING_KEY)) {
    throw new Error('QSTASH_TOKEN is set but QSTASH_CURRENT_SIGNING_KEY / QSTASH_NEXT_SIGNING_KEY are not: deliveries could not be verified');
  }
  const dataDir = resolve(env.DATA_DIR);
  return {
    port: env.PORT,
    host: listenHost(env.HOST),
    // PORT=0 (a free port) with no PUBLIC_URL: the URL is known only once listening, so startServer derives it.
    publicUrl: env.PORT === 0 && env.PUBLIC_URL === defaultPublicUrl(env.HOST, 0) ? undefined : env.PUBLIC_URL,
    database: { url: env.DATABASE_URL, dataDir: join(dataDir, 'pglite'), prepare: env.DATABASE_PREPARE === 'true' },
    startupRetryMs: env.DATABASE_STARTUP_TIMEOUT * 1000,
    qstash: env.QSTASH_TOKEN
      ? {
          baseUrl: env.QSTASH_URL,
          token: env.QSTASH_TOKEN,
          // Checked above: both keys are set whenever a token is.
          signingKeys: { current: env.QSTASH_CURRENT_SIGNING_KEY!, next: env.QSTASH_NEXT_SIGNING_KEY! },
        }
      : { embedded: { port: env.QSTASH_DEV_PORT, host: listenHost(env.QSTASH_DEV_HOST) } },
    authSecret: env.AUTH_SECRET,
    security: {
      enqueueRateLimit: env.ENQUEUE_RATE_LIMIT,
      subscriptionLimits: { perUser: env.MAX_SUBSCRIPTIONS_PER_USER, perOrganization: env.MAX_SUBSCRIPTIONS_PER_ORGANIZATION, global: env.MAX_SUBSCRIPTIONS },
      corsOrigins: env.CORS_ORIGINS,
      maxTokenLifetimeS: env.AUTH_MAX_TOKEN_LIFETIME,
      jwks: env.AUTH_JWKS_URL ? { url: env.AUTH_JWKS_URL, issuer: env.AUTH_ISSUER, audience: env.AUTH_AUDIENCE } : undefined,
    },
    stripe: { webhookSecret: env.STRIPE_WEBHOOK_SECRET },
    webhookSources: env.WEBHOOK_SOURCES,
    email: { resendApiKey: env.RESEND_API_KEY, resendBaseUrl: env.RESEND_BASE_URL, from: env.RESEND_FROM_EMAIL, mailboxDir: join(dataDir, 'mailbox') },
    brand: { productName: env.BRAND_NAME, senderName: env.EMAIL_FROM_NAME, supportUrl: env.BRAND_SUPPORT_URL, logoUrl: env.BRAND_LOGO_URL },
    filesDir: join(dataDir, 'files'),
    callbacks: { privateAddresses: env.PRIVATE_CALLBACKS },
    metrics: { token: env.METRICS_TOKEN, port: env.METRICS_PORT },
    log: createLogger({ level: env.LOG_LEVEL }),
  };
}
