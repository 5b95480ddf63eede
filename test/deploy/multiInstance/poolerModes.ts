/**
 * What docs/deployment.md says about connection poolers, checked: a jobwire server whose
 * DATABASE_URL goes through PgBouncer in session mode and in transaction mode — does it start,
 * run a job, and stream the job's live status? Needs Debian's `pgbouncer`; run by hand:
 *
 *   npx tsx test/deploy/multiInstance/poolerModes.ts
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import postgres from 'postgres';
import { createJobsClient } from '../../../client/createJobsClient.ts';
import { watchJob } from '../../../client/watchJob.ts';
import { signToken } from '../../../server/auth/token.ts';
import { startBroker } from '../../../server/broker/startBroker.ts';
import { QSTASH_DEV_CURRENT_SIGNING_KEY, QSTASH_DEV_NEXT_SIGNING_KEY, QSTASH_DEV_TOKEN } from '../../../server/env.ts';
import { startServer } from '../../../server/startServer.ts';
import { waitUntil } from './topology.ts';

const ADMIN_URL = process.env.MULTI_INSTANCE_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SECRET = 'pooler-check-secret-0123456789abcdef0123';
const dir = mkdtempSync(join(tmpdir(), 'jobwire-pooler-'));
chmodSync(dir, 0o777); // pgbouncer drops root and runs as postgres
const name = `jobwire_pooler_${Date.now().toString(36)}`;
const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined });
await admin.unsafe(`CREATE DATABASE "${name}"`);
const direct = new URL(ADMIN_URL);
direct.pathname = `/${name}`;
const port = 16_000 + Math.floor(Math.random() * 1000);

writeFileSync(join(dir, 'users.txt'), '"postgres" ""\n');
writeFileSync(
  join(dir, 'pgbouncer.ini'),
  `[databases]
session_db = host=127.0.0.1 port=5432 dbname=${name} pool_mode=session
transaction_db = host=127.0.0.1 port=5432 dbname=${name} pool_mode=transaction
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
auth_type = trust
auth_file = ${join(dir, 'users.txt')}
max_client_conn = 200
default_pool_size = 20
; jobwire sets idle_in_transaction_session_timeout as a startup parameter
ignore_startup_parameters = idle_in_transaction_session_timeout
unix_socket_dir =
`,
);
const version = spawnSync('pgbouncer', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0];
const bouncer = spawn('pgbouncer', ['-u', 'postgres', join(dir, 'pgbouncer.ini')], { detached: true, stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 1000));

// The broker (QStash's stand-in) talks to PostgreSQL directly: only jobwire's connection is under test.
const broker = await startBroker({ port: 0, storage: { url: direct.toString() }, logger: pino({ level: 'silent' }) });
const results: string[] = [];
try {
  for (const mode of ['session', 'transaction'] as const) results.push(`${mode} mode: ${await check(`postgres://postgres@127.0.0.1:${port}/${mode}_db`)}`);
} finally {
  await broker.stop();
  if (bouncer.pid) process.kill(-bouncer.pid, 'SIGTERM');
  await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(`\n${version}, jobwire DATABASE_URL through it:\n${results.map((r) => `  ${r}`).join('\n')}\n`);
process.exit(0);

async function check(url: string): Promise<string> {
  const log = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
  const server = await Promise.race([
    startServer({
      port: 0,
      database: { url },
      qstash: { baseUrl: broker.url, token: QSTASH_DEV_TOKEN, signingKeys: { current: QSTASH_DEV_CURRENT_SIGNING_KEY, next: QSTASH_DEV_NEXT_SIGNING_KEY } },
      authSecret: SECRET,
      email: { mailboxDir: join(dir, 'mailbox') },
      log,
      defaultSchedules: false,
      drainTimeoutMs: 500,
      default: false,
    }),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('start-up did not finish in 30 s')), 30_000)),
  ]).catch((error: unknown) => error as Error);
  if (server instanceof Error) return `start-up fails: ${server.message.split('\n')[0]}`;
  try {
    const client = createJobsClient({ url: `${server.url}/trpc`, token: await signToken({ userId: '1', organizationId: 1, role: 'admin' }, SECRET) });
    const enqueued = await client.jobs.enqueue
      .mutate({ type: 'send-email', payload: { template: 'welcome', to: 'pooler@example.com' }, options: { delay: 1_500 } })
      .catch((error: unknown) => error as Error);
    if (enqueued instanceof Error) return `enqueue fails: ${enqueued.message}`;
    const streamed: string[] = [];
    const sub = watchJob(client, enqueued.jobId, { onEvent: (e) => streamed.push(e.status) });
    const ran = await waitUntil(async () => (await client.jobs.get.query({ jobId: enqueued.jobId })).status === 'completed', 20_000, 'completed').then(
      () => true,
      () => false,
    );
    const live = await waitUntil(async () => streamed.includes('completed'), 5_000, 'streamed').then(
      () => true,
      () => false,
    );
    sub.unsubscribe();
    return `starts; job ${ran ? 'completed' : 'did NOT complete'}; live status ${live ? `streamed (${streamed.join(' → ')})` : `NOT streamed (saw ${streamed.join(' → ') || 'nothing'})`}`;
  } finally {
    await server.stop();
  }
}
