// `npm start` (compiled, dist/server/main.js) and `npm run dev` (tsx): reads the env files and the
// environment, starts everything, and shuts down gracefully on SIGINT/SIGTERM. A start that fails
// exits 1 with one line on stderr saying what to change.
import { join, resolve } from 'node:path';
import { loadEnv, loadEnvFilesOnce, type Env } from './env.ts';
import { isWildcardHost } from './http/listenHost.ts';
import { describeStartupError } from './startupError.ts';

function exitWith(message: string): never {
  process.stderr.write(`\njobwire could not start: ${message}\n\n`);
  process.exit(1);
}

let envFiles: string[];
let env: Env;
try {
  envFiles = loadEnvFilesOnce();
  env = loadEnv();
} catch (error) {
  exitWith(error instanceof Error ? error.message : String(error));
}
// Loaded once the configuration is known good: a refused configuration exits without loading the server.
const [{ createLogger }, { serverConfigFromEnv }, { startServer }, { toError }] = await Promise.all([
  import('./logger.ts'),
  import('./serverConfigFromEnv.ts'),
  import('./startServer.ts'),
  import('./jobs/errors.ts'),
]);
const log = createLogger({ level: env.LOG_LEVEL });
// OpenTelemetry tracing when the OTEL_* variables ask for it (README "Tracing"); off by default.
const tracing = (await import('./tracing/startTracing.ts')).startTracingFromEnv(env);
const dataDir = resolve(env.DATA_DIR);

const server = await Promise.resolve()
  .then(() => startServer({ ...serverConfigFromEnv(env), log }))
  .catch((error: unknown) => {
    log.fatal({ err: toError(error) }, '[server] Failed to start');
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
