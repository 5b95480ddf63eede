/**
 * `npm run qstash:dev`: the broker alone, as a drop-in for `npx @upstash/qstash-cli dev`.
 * Config: --port / QSTASH_DEV_PORT (8080), --host / QSTASH_DEV_HOST (127.0.0.1; 0.0.0.0 for every
 * interface, IPv4 and IPv6), DATABASE_URL (real Postgres) or
 * DATA_DIR (.data; PGlite in <DATA_DIR>/qstash), LOG_LEVEL (info). The only env reader of the broker.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import pino from 'pino';
import { listenHost, parseHost } from '../http/listenHost.ts';
import { QSTASH_DEV_CURRENT_SIGNING_KEY, QSTASH_DEV_NEXT_SIGNING_KEY, QSTASH_DEV_TOKEN } from '../env.ts';
import { startBroker, type BrokerOptions } from './startBroker.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    token: { type: 'string' },
    'current-signing-key': { type: 'string' },
    'next-signing-key': { type: 'string' },
  },
});

const port = Number(values.port ?? process.env.QSTASH_DEV_PORT ?? 8080);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`invalid port: ${values.port ?? process.env.QSTASH_DEV_PORT}\n`);
  process.exit(2);
}
let host: string;
try {
  host = listenHost(parseHost(values.host ?? (process.env.QSTASH_DEV_HOST || '127.0.0.1')));
} catch (error) {
  process.stderr.write(`invalid ${values.host === undefined ? 'QSTASH_DEV_HOST' : '--host'}: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
}
const logger = pino({ name: 'qstash-broker', level: process.env.LOG_LEVEL ?? 'info', redact: ['authorization', '*.authorization'] });

let pglite: PGlite | undefined;
let storage: BrokerOptions['storage'];
if (process.env.DATABASE_URL) {
  storage = { url: process.env.DATABASE_URL };
} else {
  const dir = join(process.env.DATA_DIR ?? '.data', 'qstash');
  mkdirSync(dir, { recursive: true });
  pglite = new PGlite(dir);
  await pglite.waitReady;
  storage = { pglite };
}

const broker = await startBroker({
  port,
  host,
  storage,
  logger,
  ...(values.token ? { token: values.token } : {}),
  ...(values['current-signing-key'] ? { currentSigningKey: values['current-signing-key'] } : {}),
  ...(values['next-signing-key'] ? { nextSigningKey: values['next-signing-key'] } : {}),
}).catch((error: unknown) => {
  const { code, address } = error as { code?: string; address?: string };
  const where = `port ${port} on ${address ?? host}`;
  const hint =
    code === 'EADDRINUSE' ? `${where} is already in use (another broker, or jobwire's embedded one?): set QSTASH_DEV_PORT (or --port) to a free port, or QSTASH_DEV_HOST (or --host) to another address`
    : code === 'EACCES' ? `${where} needs privileges (ports below 1024 usually do): set QSTASH_DEV_PORT (or --port) to 1024 or above`
    : code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' ? `${host} is not an address of this machine: set QSTASH_DEV_HOST (or --host) to 127.0.0.1, 0.0.0.0 or one of this machine's addresses`
    : error instanceof Error ? error.message : String(error);
  process.stderr.write(`\nThe QStash broker could not start: ${hint}\n\n`);
  process.exit(1);
});

const token = values.token ?? QSTASH_DEV_TOKEN;
const keys = {
  current: values['current-signing-key'] ?? QSTASH_DEV_CURRENT_SIGNING_KEY,
  next: values['next-signing-key'] ?? QSTASH_DEV_NEXT_SIGNING_KEY,
};
process.stdout.write(`
Upstash QStash-compatible development broker is running at ${broker.url}
Storage: ${pglite ? `PGlite in ${join(process.env.DATA_DIR ?? '.data', 'qstash')}` : 'PostgreSQL (DATABASE_URL)'}; messages survive restarts.

Copy these into your .env:

QSTASH_URL=${broker.url}
QSTASH_TOKEN=${token}
QSTASH_CURRENT_SIGNING_KEY=${keys.current}
QSTASH_NEXT_SIGNING_KEY=${keys.next}

Sample cURL request:

curl -X POST ${broker.url}/v2/publish/https://example.com -H "Authorization: Bearer ${token}" -d 'hello'

`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, '[broker] Shutting down');
  await broker.stop();
  if (pglite && !pglite.closed) await pglite.close();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
