// `npm start`: reads the environment, starts everything, and shuts down gracefully on SIGINT/SIGTERM.
import { join, resolve } from 'node:path';
import { loadEnv } from './env.ts';
import { createLogger } from './logger.ts';
import { serverConfigFromEnv } from './serverConfigFromEnv.ts';
import { startServer } from './startServer.ts';
import { toError } from './jobs/errors.ts';

const env = loadEnv();
const log = createLogger({ level: env.LOG_LEVEL });
const dataDir = resolve(env.DATA_DIR);

const server = await Promise.resolve()
  .then(() => startServer({ ...serverConfigFromEnv(env), log }))
  .catch((error: unknown) => {
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
