import type { Env } from './env.ts';

type StartupEnv = Pick<Env, 'PORT' | 'HOST' | 'QSTASH_DEV_PORT' | 'QSTASH_DEV_HOST' | 'DATABASE_URL' | 'DATABASE_STARTUP_TIMEOUT'>;

interface SystemError extends Error {
  code?: string;
  syscall?: string;
  address?: string;
  hostname?: string;
  port?: number;
}

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'CONNECT_TIMEOUT']);
// PostgreSQL refusing the connection: bad password or user, no pg_hba entry, no such database, starting up, full.
const REFUSED_BY_POSTGRES = new Set(['28P01', '28000', '3D000', '57P03', '53300']);

/**
 * What to change when start-up failed on a port, an address or the database, in one sentence
 * naming the variable (PORT, HOST, QSTASH_DEV_PORT, QSTASH_DEV_HOST, DATABASE_URL); undefined
 * for other errors, whose own message says it.
 */
export function describeStartupError(error: unknown, env: StartupEnv): string | undefined {
  for (const cause of causes(error)) {
    const message = listenProblem(cause, env) ?? databaseProblem(cause, env);
    if (message) return message;
  }
  return undefined;
}

function listenProblem(error: SystemError, env: StartupEnv): string | undefined {
  const broker = error.port !== undefined && error.port === env.QSTASH_DEV_PORT && error.port !== env.PORT;
  const [portVar, hostVar, what] = broker ? ['QSTASH_DEV_PORT', 'QSTASH_DEV_HOST', "the embedded QStash broker's port"] : ['PORT', 'HOST', 'port'];
  const where = `${what} ${error.port} on ${error.address ?? (broker ? env.QSTASH_DEV_HOST : env.HOST)}`;
  if (error.syscall === 'listen' && error.code === 'EADDRINUSE') {
    const elsewhere = broker ? ', or point QSTASH_URL and QSTASH_TOKEN at the broker already running there' : '';
    return `${where} is already in use (another jobwire or another program listens there): set ${portVar} to a free port${elsewhere}, or ${hostVar} to another address, or stop that program.`;
  }
  if (error.syscall === 'listen' && error.code === 'EACCES') {
    return `${where} needs privileges this process does not have (ports below 1024 usually do): set ${portVar} to 1024 or above.`;
  }
  if (error.syscall === 'listen' && error.code === 'EADDRNOTAVAIL') {
    return `${hostVar}=${error.address ?? ''} is not an address of this machine: set ${hostVar} to 127.0.0.1 (this machine only), 0.0.0.0 (every interface) or one of this machine's addresses.`;
  }
  if (error.syscall === 'getaddrinfo' && error.hostname !== undefined && error.hostname !== databaseTarget(env)?.hostname) {
    const name = error.hostname === env.QSTASH_DEV_HOST && error.hostname !== env.HOST ? 'QSTASH_DEV_HOST' : error.hostname === env.HOST ? 'HOST' : undefined;
    if (name) return `${name}=${error.hostname} does not resolve to an address of this machine: set ${name} to 127.0.0.1, 0.0.0.0 or one of this machine's addresses.`;
  }
  return undefined;
}

function databaseProblem(error: SystemError, env: StartupEnv): string | undefined {
  const target = databaseTarget(env);
  if (!target) return undefined;
  const shown = `the PostgreSQL server at ${target.shown}`;
  const check = 'check DATABASE_URL (host, port, user, password, database name), or unset it to use the embedded PGlite in development.';
  if (error.name === 'PostgresError' && error.code && REFUSED_BY_POSTGRES.has(error.code)) {
    return `${shown} refused the connection (${error.message}): ${check}`;
  }
  const connecting = error.code !== undefined && CONNECT_CODES.has(error.code) && error.syscall !== 'listen';
  // A connection error names the host it tried (hostname or address) and the port: the database's, not QStash's.
  if (connecting && (error.hostname === target.hostname || error.address === target.hostname || error.port === target.port)) {
    const waited = env.DATABASE_STARTUP_TIMEOUT > 0 ? ` after retrying for ${env.DATABASE_STARTUP_TIMEOUT} s (DATABASE_STARTUP_TIMEOUT)` : '';
    return `${shown} is unreachable${waited} (${error.message}): ${check} Is PostgreSQL running there?`;
  }
  return undefined;
}

/** DATABASE_URL's host and port, and the URL without its password, to show. */
function databaseTarget(env: StartupEnv): { hostname: string; port: number; shown: string } | undefined {
  if (!env.DATABASE_URL) return undefined;
  try {
    const url = new URL(env.DATABASE_URL);
    if (url.password) url.password = '***';
    return { hostname: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 5432), shown: url.href };
  } catch {
    return undefined;
  }
}

/** The error, its `cause` chain and the errors it aggregates (a connection to `localhost` tries ::1 and 127.0.0.1). */
function causes(error: unknown, seen = new Set<unknown>()): SystemError[] {
  if (!(error instanceof Error) || seen.has(error)) return [];
  seen.add(error);
  const nested = error instanceof AggregateError ? (error.errors as unknown[]) : [];
  return [error as SystemError, ...[error.cause, ...nested].flatMap((inner) => causes(inner, seen))];
}
