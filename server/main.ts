// `npm start`: reads the environment, starts everything, and shuts down gracefully on SIGINT/SIGTERM.
import { join, resolve } from 'node:path';
import { loadEnv } from './env.ts';
import { createLogger } from './logger.ts';
import { startServer } from './startServer.ts';
import { toError } from './jobs/errors.ts';

const env = loadEnv();
const log = createLogger({ level: env.LOG_LEVEL });
const dataDir = resolve(env.DATA_DIR);

if (env.QSTASH_TOKEN && (!env.QSTASH_CURRENT_SIGNING_KEY || !env.QSTASH_NEXT_SIGNING_KEY)) {
  log.fatal('[server] QSTASH_TOKEN is set but QSTASH_CURRENT_SIGNING_KEY / QSTASH_NEXT_SIGNING_KEY are not: deliveries could not be verified');
  process.exit(1);
}

const server = await startServer({
  port: env.PORT,
  host: '127.0.0.1',
  publicUrl: env.PUBLIC_URL,
  database: { url: env.DATABASE_URL, dataDir: join(dataDir, 'pglite') },
  qstash: env.QSTASH_TOKEN
    ? {
        baseUrl: env.QSTASH_URL,
        token: env.QSTASH_TOKEN,
        // Checked above: both keys are set whenever a token is.
        signingKeys: { current: env.QSTASH_CURRENT_SIGNING_KEY!, next: env.QSTASH_NEXT_SIGNING_KEY! },
      }
    : { embedded: { port: env.QSTASH_DEV_PORT } },
  authSecret: env.AUTH_SECRET,
  security: {
    enqueueRateLimit: env.ENQUEUE_RATE_LIMIT,
    corsOrigins: env.CORS_ORIGINS,
    jwks: env.AUTH_JWKS_URL ? { url: env.AUTH_JWKS_URL, issuer: env.AUTH_ISSUER, audience: env.AUTH_AUDIENCE } : undefined,
  },
  stripe: { webhookSecret: env.STRIPE_WEBHOOK_SECRET },
  webhookSources: env.WEBHOOK_SOURCES,
  email: { resendApiKey: env.RESEND_API_KEY, resendBaseUrl: env.RESEND_BASE_URL, from: env.RESEND_FROM_EMAIL, mailboxDir: join(dataDir, 'mailbox') },
  filesDir: join(dataDir, 'files'),
  log,
}).catch((error: unknown) => {
  log.fatal({ err: toError(error) }, '[server] Failed to start');
  process.exit(1);
});

process.stdout.write(
  [
    '',
    `  jobwire is running`,
    `  API (tRPC)      ${server.url}/trpc`,
    `  Health          ${server.url}/healthz   ${server.url}/readyz`,
    `  Worker routes   ${server.publicUrl}/api/jobs/<endpoint>`,
    `  Database        ${server.database.driver === 'pglite' ? `PGlite in ${join(dataDir, 'pglite')}` : 'PostgreSQL (DATABASE_URL)'}`,
    `  QStash          ${server.broker ? `embedded broker at ${server.broker.url}` : (env.QSTASH_URL ?? 'QStash cloud')}`,
    `  Email           ${server.mailbox ? `dev mailbox in ${server.mailbox.dir}` : 'Resend'}`,
    `  Files           exports and reports in ${join(dataDir, 'files')}, GET ${server.url}/api/files/<id>`,
    `  Get a token     npm run token -- --user 1 --org 1 --role admin`,
    '',
  ].join('\n') + '\n',
);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, '[server] Shutting down');
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: toError(error) }, '[server] Shutdown failed');
        process.exit(1);
      },
    );
  });
}
