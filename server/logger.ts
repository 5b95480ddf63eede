import pino, { type DestinationStream, type Logger } from 'pino';
import { withoutQueryParams } from './db/withoutQueryParams.ts';
import { maskSecrets } from './security/maskSecrets.ts';

export type { Logger };

/** Paths pino redacts everywhere: credentials, cookies, signatures, tokens, secrets, connection strings and bodies. */
export const REDACT_PATHS = [
  // Credentials and cookies in request/response headers.
  'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization', 'cookie', '*.cookie',
  'headers.cookie', 'req.headers.cookie', 'headers["set-cookie"]', '*.headers["set-cookie"]',
  // Delivery and webhook signatures.
  'signature', '*.signature', 'headers["upstash-signature"]', '*.headers["upstash-signature"]',
  'headers["stripe-signature"]', '*.headers["stripe-signature"]',
  // Tokens and secrets, as jobwire names them and as the environment does.
  'token', '*.token', 'accessToken', 'refreshToken', 'secret', '*.secret', 'authSecret', '*.authSecret', 'password', '*.password',
  'apiKey', '*.apiKey', 'resendApiKey', '*.resendApiKey', 'signingKeys', '*.signingKeys', 'webhookSecret', '*.webhookSecret',
  'AUTH_SECRET', 'QSTASH_TOKEN', 'QSTASH_CURRENT_SIGNING_KEY', 'QSTASH_NEXT_SIGNING_KEY', 'RESEND_API_KEY',
  'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', '*.AUTH_SECRET', '*.QSTASH_TOKEN', '*.RESEND_API_KEY', '*.STRIPE_SECRET_KEY',
  // Connection strings.
  'databaseUrl', '*.databaseUrl', 'connectionString', '*.connectionString', 'DATABASE_URL', '*.DATABASE_URL',
  // Bodies: email content, raw deliveries and webhooks.
  'html', 'text', '*.html', '*.text', 'body', '*.body', 'rawBody', '*.rawBody',
];

export interface LoggerOptions {
  level?: string;
  name?: string;
  /** Where lines go. Default stdout. */
  destination?: DestinationStream;
}

/**
 * The root logger: path redaction (REDACT_PATHS) plus value masking of every finished line
 * (email addresses, bearer tokens, JWTs, keys, URL credentials; `maskSecrets`).
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const settings = {
    name: options.name ?? 'jobwire',
    level: options.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { err: (error: unknown) => pino.stdSerializers.err(withoutQueryParams(error) as Error) },
    hooks: { streamWrite: maskSecrets },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
