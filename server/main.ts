// `npm start` (compiled, dist/server/main.js) and `npm run dev` (tsx): reads the env files and the
// environment, starts everything, and shuts down gracefully on SIGINT/SIGTERM. A start that fails
// exits 1 with one line on stderr saying what to change.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { loadEnv, loadEnvFilesOnce, type Env } from './env.ts';
import { isWildcardHost } from './http/listenHost.ts';
import { describeStartupError } from './startupError.ts';
import { tracingEnabled } from './tracing/tracingEnabled.ts';

function exitWith(message: string): never {
  process.stderr.write(`\njobwire could not start: ${message}\n\n`);
  process.exit(1);
}

/**
 * PGlite's default buffer cache is 128 MB, which its WebAssembly Postgres allocates and touches at
 * every open: a third of a second of CPU of each start. A development database is a few megabytes,
 * and PGlite's file reads go through the operating system's cache anyway; the WAL buffers keep
 * their default size, so writes are batched as before.
 */
const PGLITE_SETTINGS = ['-c', 'shared_buffers=16MB', '-c', 'wal_buffers=4MB'];

/** Opens PGlite in `dir` as server/db/database.ts `createPglite` does, with PGLITE_SETTINGS, loading nothing else. */
async function openPglite(dir: string): Promise<PGlite> {
  const { PGlite } = await import('@electric-sql/pglite');
  mkdirSync(dir, { recursive: true });
  const pg = new PGlite(dir, { startParams: [...PGlite.defaultStartParams, ...PGLITE_SETTINGS] });
  await pg.waitReady;
  return pg;
}

/** The PGlite opened here is this module's to close: the server's `stop()` leaves a database it was given open. */
async function closePglite(): Promise<void> {
  const pg = await pglite?.catch(() => undefined);
  if (pg && !pg.closed) await pg.close();
}

let envFiles: string[];
let env: Env;
try {
  envFiles = loadEnvFilesOnce();
  env = loadEnv();
} catch (error) {
  exitWith(error instanceof Error ? error.message : String(error));
}
// The embedded database starts opening now, while the server's modules load: PGlite's WebAssembly
// compiles on other threads and its files are read meanwhile (README "Start-up time").
const dataDir = resolve(env.DATA_DIR);
const pglite = env.DATABASE_URL ? undefined : openPglite(join(dataDir, 'pglite'));
pglite?.catch(() => undefined); // its failure is the start's, reported below
// Loaded once the configuration is known good: a refused configuration exits without loading the server.
const [{ createLogger }, { serverConfigFromEnv }, { startServer }, { toError }] = await Promise.all([
  import('./logger.ts'),
  import('./serverConfigFromEnv.ts'),
  import('./startServer.ts'),
  import('./jobs/errors.ts'),
]);
const log = createLogger({ level: env.LOG_LEVEL });
// OpenTelemetry tracing when the OTEL_* variables ask for it (README "Tracing"); off by default, and
// then its SDK is not even loaded.
const tracing = tracingEnabled(env) ? (await import('./tracing/startTracing.ts')).startTracing({ serviceName: env.OTEL_SERVICE_NAME }) : undefined;

const server = await Promise.resolve()
  .then(async () => {
    const config = serverConfigFromEnv(env);
    // PGlite is passed while it may still be opening: startServer imports the handler files meanwhile.
    return startServer({ ...config, database: { ...config.database, ...(pglite ? { pglite } : {}) }, log });
  })
  .catch(async (error: unknown) => {
    log.fatal({ err: toError(error) }, '[server] Failed to start');
    await closePglite();
    exitWith(describeStartupError(error, env) ?? toError(error).message);
  });

const listening = isWildcardHost(env.HOST) ? `every interface (HOST=${env.HOST}), port ${new URL(server.url).port}` : `${server.url} only (HOST=0.0.0.0 for every interface)`;
process.stdout.write(
  [
    '',
    `  jobwire is running`,
    `  API (tRPC)      ${server.url}/trpc`,
    `  Listening on    ${listening}`,
    `  Configuration   ${envFiles.length > 0 ? `${envFiles.join(', ')} below the environment` : 'the environment (no env file read)'}`,
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
      async () => {
        await closePglite();
        await tracing?.shutdown().catch(() => undefined); // flush the last spans
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: toError(error) }, '[server] Shutdown failed');
        process.exit(1);
      },
    );
  });
}
