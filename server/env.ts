import { z } from 'zod';
import { parseTokenLifetime } from './auth/token.ts';
import { loadEnvFiles } from './envFiles.ts';
import { parseHost, urlHost } from './http/listenHost.ts';
import { LogoUrl, ProductName, SenderAddress, SenderName, SupportUrl } from './email/branding.ts';
import { PRIVATE_CALLBACKS, type PrivateCallbacks } from './security/addressRanges.ts';
import { parseCorsOrigins } from './security/cors.ts';
import { parseRateLimit } from './security/rateLimiter.ts';
import { parseSubscriptionLimit } from './security/subscriptionLimiter.ts';
import { WebhookSourcesJson } from './webhooks/webhookSource.ts';

/** The dev AUTH_SECRET shipped in .env.example; refused in production. */
export const DEV_AUTH_SECRET = 'dev-only-secret-change-me-0123456789abcdef';
/** The official QStash dev server's fixed credentials (qstash-protocol.md §5). */
export const QSTASH_DEV_TOKEN = 'eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0=';
export const QSTASH_DEV_CURRENT_SIGNING_KEY = 'sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r';
export const QSTASH_DEV_NEXT_SIGNING_KEY = 'sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs';

const optional = z.string().trim().min(1).optional().catch(undefined);
const emptyAsUnset = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optionalUrl = z.preprocess((v) => (v === '' ? undefined : v), z.url().optional());
/** Unset or empty is undefined; anything else must pass `schema` (a bad brand value refuses the start). */
const unlessEmpty = <S extends z.ZodType>(schema: S) => z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), schema.optional());

/** Runs a throwing parser inside Zod, so its message lands in the "Invalid environment" list. */
function parsedWith<T>(parse: (value: string) => T) {
  return (value: string, ctx: z.RefinementCtx): T => {
    try {
      return parse(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) });
      return z.NEVER;
    }
  };
}

export const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Address the server listens on: `127.0.0.1` (this machine only, default), `0.0.0.0` (every interface, IPv4 and IPv6: containers, VMs), or one address or host name. */
  HOST: z.preprocess(emptyAsUnset, z.string().default('127.0.0.1').transform(parsedWith(parseHost))),
  PUBLIC_URL: z.url().optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  DATABASE_URL: optional,
  /** Seconds start-up keeps retrying while DATABASE_URL's server is unreachable (refused, starting up); 0 gives up at once. Default 120. */
  DATABASE_STARTUP_TIMEOUT: z.preprocess(emptyAsUnset, z.coerce.number().int().min(0).max(3600).default(120)),
  /** `false`: no server-side prepared statements (PgBouncer in transaction mode before 1.21). Default true. */
  DATABASE_PREPARE: z.preprocess(emptyAsUnset, z.enum(['true', 'false']).default('true')),
  QSTASH_URL: optional,
  QSTASH_TOKEN: optional,
  QSTASH_CURRENT_SIGNING_KEY: optional,
  QSTASH_NEXT_SIGNING_KEY: optional,
  /** Read here only to refuse it in production: the QStash SDK reads it itself and then ignores configured keys. */
  QSTASH_DEV: optional,
  QSTASH_DEV_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Address the embedded broker listens on. Default `127.0.0.1` whatever HOST is: it accepts the public dev token, so exposing it is a choice. */
  QSTASH_DEV_HOST: z.preprocess(emptyAsUnset, z.string().default('127.0.0.1').transform(parsedWith(parseHost))),
  AUTH_SECRET: z.string().min(32, 'AUTH_SECRET must be at least 32 characters').default(DEV_AUTH_SECRET),
  /** Also accept RS256/ES256 bearer tokens signed by a key of this JWKS (an external auth provider). */
  AUTH_JWKS_URL: optionalUrl,
  /** With AUTH_JWKS_URL: the `iss` and `aud` those tokens must carry. */
  AUTH_ISSUER: optional,
  AUTH_AUDIENCE: optional,
  /** Longest lifetime (`exp - iat`) a bearer token may have: `24h`, `90m`, `7d`. Tokens cannot be revoked. Default 24h. */
  AUTH_MAX_TOKEN_LIFETIME: z.string().default('24h').transform(parsedWith(parseTokenLifetime)),
  /** Non-public addresses `callback` / `failureCallback` may reach: `refuse`, `loopback` or `allow`. Default `loopback`, `refuse` in production. */
  PRIVATE_CALLBACKS: z.enum(PRIVATE_CALLBACKS).optional(),
  /** `jobs.enqueue` and `jobs.schedule` calls and schedule firings per organization, shared by all instances: `<n>/<window>` (`600/1m`, `10/s`) or `off`. */
  ENQUEUE_RATE_LIMIT: z.string().default('600/1m').transform(parsedWith(parseRateLimit)),
  /** Open live-status streams (`jobs.onStatus`, `jobs.onEvents`) per user, per organization and per process: a number or `off`. */
  MAX_SUBSCRIPTIONS_PER_USER: z.string().default('20').transform(parsedWith(parseSubscriptionLimit)),
  MAX_SUBSCRIPTIONS_PER_ORGANIZATION: z.string().default('200').transform(parsedWith(parseSubscriptionLimit)),
  MAX_SUBSCRIPTIONS: z.string().default('5000').transform(parsedWith(parseSubscriptionLimit)),
  /** Origins browsers may call /trpc from: a comma list of exact origins, or `*`. Default none. */
  CORS_ORIGINS: z.string().default('').transform(parsedWith(parseCorsOrigins)),
  RESEND_API_KEY: optional,
  RESEND_BASE_URL: optional,
  /** Sender, `address` or `Name <address>`. Default `noreply@example.com` (set it: Resend sends only from your verified domain). */
  RESEND_FROM_EMAIL: unlessEmpty(SenderAddress),
  /** Email branding, all optional and neutral when unset: product name, sender display name (default BRAND_NAME), support link, logo (https). */
  BRAND_NAME: unlessEmpty(ProductName),
  EMAIL_FROM_NAME: unlessEmpty(SenderName),
  BRAND_SUPPORT_URL: unlessEmpty(SupportUrl),
  BRAND_LOGO_URL: unlessEmpty(LogoUrl),
  STRIPE_SECRET_KEY: optional,
  STRIPE_WEBHOOK_SECRET: optional,
  /** Generic webhook senders (`POST /api/webhooks/<name>`): a JSON array of `{ name, verify, secret, organizationId?, … }`. */
  WEBHOOK_SOURCES: z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), WebhookSourcesJson.optional()),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `GET /metrics` on PORT for scrapers sending `Authorization: Bearer <METRICS_TOKEN>` (16+ characters). Unset: not served on PORT. */
  METRICS_TOKEN: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(16, 'METRICS_TOKEN must be at least 16 characters').optional()),
  /** Serve `/metrics` on this port instead (on HOST; with METRICS_TOKEN it asks for the token there too). Unset: no metrics port. */
  METRICS_PORT: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(0).max(65535).optional()),
  /** OpenTelemetry tracing, off by default: on with an OTLP endpoint or OTEL_TRACES_EXPORTER=otlp (the exporter reads the other OTEL_EXPORTER_OTLP_* itself). */
  OTEL_SDK_DISABLED: optional,
  OTEL_TRACES_EXPORTER: optional,
  OTEL_EXPORTER_OTLP_ENDPOINT: optional,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optional,
  OTEL_SERVICE_NAME: optional,
});

export type Env = z.infer<typeof EnvSchema> & { PUBLIC_URL: string; PRIVATE_CALLBACKS: PrivateCallbacks };

/** Problems that make a production start unsafe, each saying what to fix. */
export function productionProblems(env: Env): string[] {
  if (env.NODE_ENV !== 'production') return [];
  const problems: string[] = [];
  if (env.AUTH_SECRET === DEV_AUTH_SECRET) problems.push('AUTH_SECRET is the development secret from .env.example: set a random secret of 32+ characters.');
  if (!env.DATABASE_URL) problems.push('DATABASE_URL is not set: production needs a managed PostgreSQL, not the embedded PGlite.');
  if (!env.QSTASH_TOKEN) problems.push('QSTASH_TOKEN is not set: production publishes to QStash cloud.');
  if (!env.QSTASH_CURRENT_SIGNING_KEY || !env.QSTASH_NEXT_SIGNING_KEY) problems.push('QSTASH_CURRENT_SIGNING_KEY and QSTASH_NEXT_SIGNING_KEY must both be set to verify deliveries.');
  const devKeys = [QSTASH_DEV_CURRENT_SIGNING_KEY, QSTASH_DEV_NEXT_SIGNING_KEY];
  if (devKeys.includes(env.QSTASH_CURRENT_SIGNING_KEY ?? '') || devKeys.includes(env.QSTASH_NEXT_SIGNING_KEY ?? '')) {
    problems.push('A QStash signing key is the public dev-server key: use the signing keys your Upstash console shows for QStash.');
  }
  if (env.QSTASH_DEV) problems.push('QSTASH_DEV is set: the QStash SDK would then ignore your token and signing keys and trust the public dev-server keys. Unset QSTASH_DEV.');
  if (!env.PUBLIC_URL.startsWith('https://')) problems.push(`PUBLIC_URL is ${env.PUBLIC_URL}: set it to this server's public https URL (QStash delivers there, and deliveries are verified against it).`);
  if (env.AUTH_JWKS_URL && !env.AUTH_JWKS_URL.startsWith('https://')) problems.push('AUTH_JWKS_URL must be an https URL: the keys that prove every caller must not travel in clear text.');
  if (!env.RESEND_API_KEY) problems.push('RESEND_API_KEY is not set: production sends email through Resend, not the dev mailbox.');
  return problems;
}

let envFilesRead: string[] | undefined;

/**
 * Reads `.env.local` and `.env` (or `ENV_FILES`) into process.env, once per process, below the
 * real environment and never in production unless `ENV_FILES` asks (envFiles.ts). Returns the files read.
 */
export function loadEnvFilesOnce(cwd: string = process.cwd()): string[] {
  envFilesRead ??= loadEnvFiles(process.env, cwd);
  return envFilesRead;
}

/** The URL QStash reaches this server at when PUBLIC_URL is unset. */
export const defaultPublicUrl = (host: string, port: number): string => `http://${urlHost(host)}:${port}`;

/**
 * Parses and validates configuration once. The only reader of process.env (STYLE.md): with no
 * `source`, the env files are read into it first (loadEnvFilesOnce).
 */
export function loadEnv(source?: NodeJS.ProcessEnv): Env {
  if (!source) loadEnvFilesOnce();
  const parsed = EnvSchema.safeParse(source ?? process.env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid environment:\n${lines.join('\n')}`);
  }
  const { PORT, QSTASH_DEV_PORT, QSTASH_TOKEN } = parsed.data;
  if (!QSTASH_TOKEN && PORT !== 0 && PORT === QSTASH_DEV_PORT) {
    throw new Error(`Invalid environment:\n  PORT, QSTASH_DEV_PORT: both are ${PORT}, but the server and the embedded broker need a port each: change one of them`);
  }
  const env = {
    ...parsed.data,
    PUBLIC_URL: (parsed.data.PUBLIC_URL ?? defaultPublicUrl(parsed.data.HOST, PORT)).replace(/\/+$/, ''),
    // A local service as a callback is a development use; production reaches public addresses only.
    PRIVATE_CALLBACKS: parsed.data.PRIVATE_CALLBACKS ?? (parsed.data.NODE_ENV === 'production' ? 'refuse' : 'loopback'),
  };
  const problems = productionProblems(env);
  if (problems.length > 0) throw new Error(`Refusing to start in production:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return env;
}
