/**
 * The production topology on one machine: N jobwire processes (`npm start`) on one fresh
 * PostgreSQL database, one standalone broker (`npm run qstash:dev`, its own database, standing in
 * for QStash cloud) and HAProxy in front on 127.0.0.1. Every process is spawned in its own
 * process group and stopped by that id.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { QSTASH_DEV_CURRENT_SIGNING_KEY, QSTASH_DEV_NEXT_SIGNING_KEY, QSTASH_DEV_TOKEN } from '../../../server/env.ts';
import { haproxyCommand, serverStats, startHaproxy } from './haproxy.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
/** Admin connection used only to create and drop the topology's two databases. */
const ADMIN_URL = process.env.MULTI_INSTANCE_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface Instance {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly logFile: string;
  /** SIGTERM and wait for the exit (the server drains running requests first). */
  stop(): Promise<void>;
  /** Starts the process again on the same port and waits for /readyz. */
  start(): Promise<void>;
}

export interface Topology {
  /** The load balancer: every client request and every broker delivery goes here. */
  readonly url: string;
  readonly brokerUrl: string;
  readonly instances: Instance[];
  /** The jobwire database (job_executions, job_events, job_schedules). */
  readonly databaseUrl: string;
  readonly brokerDatabaseUrl: string;
  readonly authSecret: string;
  readonly dir: string;
  stopBroker(): Promise<void>;
  startBroker(): Promise<void>;
  /** `ready`, `drain` or `maint` for one instance in HAProxy, as a deploy tool would. */
  setLbState(instance: Instance, state: 'ready' | 'drain' | 'maint'): Promise<void>;
  lbStats(): ReturnType<typeof serverStats>;
  stop(): Promise<void>;
}

export interface TopologyOptions {
  instances?: number;
  /** Keep the temp dir (logs, haproxy.cfg) after stop. Default false. */
  keepDir?: boolean;
  /** Instance LOG_LEVEL. Default info (the rolling-restart check reads `[jobs] Processing job`). */
  logLevel?: string;
}

export async function startTopology(options: TopologyOptions = {}): Promise<Topology> {
  const dir = mkdtempSync(join(tmpdir(), 'jobwire-multi-'));
  const tag = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined });
  const databaseUrl = withDatabase(ADMIN_URL, `jobwire_multi_${tag}`);
  const brokerDatabaseUrl = withDatabase(ADMIN_URL, `jobwire_multi_${tag}_broker`);
  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const undo of cleanups.reverse()) await undo().catch(() => undefined);
    await admin.end();
    if (!options.keepDir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const url of [databaseUrl, brokerDatabaseUrl]) {
      const name = new URL(url).pathname.slice(1);
      await admin.unsafe(`CREATE DATABASE "${name}"`);
      cleanups.push(async () => void (await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)));
    }
    const [lbPort = 0, brokerPort = 0, ...ports] = await freePorts(2 + (options.instances ?? 3));
    const url = `http://127.0.0.1:${lbPort}`;
    const brokerUrl = `http://127.0.0.1:${brokerPort}`;
    const authSecret = randomBytes(24).toString('hex');
    const dataDir = join(dir, 'data'); // shared: the dev mailbox and files, as a shared volume would be
    mkdirSync(dataDir);

    const broker = managedProcess({
      name: 'broker',
      logFile: join(dir, 'broker.log'),
      command: ['npm', 'run', '--silent', 'qstash:dev', '--', '--port', String(brokerPort)],
      env: { DATABASE_URL: brokerDatabaseUrl, LOG_LEVEL: 'warn' },
      readyUrl: `${brokerUrl}/v2/schedules`,
      readyHeaders: { authorization: `Bearer ${QSTASH_DEV_TOKEN}` },
    });
    cleanups.push(() => broker.stop());
    await broker.start();

    const instances = ports.map((port, i) =>
      managedProcess({
        name: `app${i + 1}`,
        logFile: join(dir, `app${i + 1}.log`),
        command: ['npm', 'start', '--silent'],
        env: {
          NODE_ENV: 'development',
          HOST: '127.0.0.1',
          PORT: String(port),
          PUBLIC_URL: url, // QStash delivers through the load balancer, as in production
          DATABASE_URL: databaseUrl,
          QSTASH_URL: brokerUrl,
          QSTASH_TOKEN: QSTASH_DEV_TOKEN,
          QSTASH_CURRENT_SIGNING_KEY: QSTASH_DEV_CURRENT_SIGNING_KEY,
          QSTASH_NEXT_SIGNING_KEY: QSTASH_DEV_NEXT_SIGNING_KEY,
          AUTH_SECRET: authSecret,
          DATA_DIR: dataDir,
          ENQUEUE_RATE_LIMIT: 'off',
          LOG_LEVEL: options.logLevel ?? 'info',
        },
        readyUrl: `http://127.0.0.1:${port}/readyz`,
      }),
    );
    cleanups.push(async () => void (await Promise.all(instances.map((i) => i.stop()))));
    // One at a time: the first migrates the fresh database, the others find it migrated.
    await instances[0]!.start();
    await Promise.all(instances.slice(1).map((i) => i.start()));

    const haproxyLog = createWriteStream(join(dir, 'haproxy.log'));
    const haproxy = startHaproxy({ dir, port: lbPort, servers: instances.map((i) => ({ name: i.name, port: i.port })) }, haproxyLog);
    cleanups.push(() => stopGroup(haproxy));
    await waitUntil(async () => {
      const stats = await serverStats(dir).catch(() => undefined);
      return stats && [...stats.values()].every((s) => s.status === 'UP');
    }, 20_000, 'HAProxy sees every instance UP');

    return {
      url,
      brokerUrl,
      instances,
      databaseUrl,
      brokerDatabaseUrl,
      authSecret,
      dir,
      stopBroker: () => broker.stop(),
      startBroker: () => broker.start(),
      async setLbState(instance, state) {
        const out = await haproxyCommand(dir, `set server instances/${instance.name} state ${state}`);
        if (out.trim()) throw new Error(`haproxy: ${out.trim()}`);
      },
      lbStats: () => serverStats(dir),
      stop: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

interface ProcessSpec {
  name: string;
  logFile: string;
  command: string[];
  env: Record<string, string>;
  readyUrl: string;
  readyHeaders?: Record<string, string>;
}

function managedProcess(spec: ProcessSpec): Instance {
  let child: ChildProcess | undefined;
  let log: WriteStream | undefined;
  const port = Number(new URL(spec.readyUrl).port);
  return {
    name: spec.name,
    port,
    url: `http://127.0.0.1:${port}`,
    logFile: spec.logFile,
    async start() {
      log ??= createWriteStream(spec.logFile, { flags: 'a' });
      const [cmd, ...args] = spec.command;
      // Only what the process needs: PATH and HOME for npm, and its own settings (no .env leaks in).
      const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...spec.env };
      const started = spawn(cmd!, args, { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      started.stdout!.pipe(log, { end: false }); // stdio 'pipe' gives both streams
      started.stderr!.pipe(log, { end: false });
      child = started;
      let exited = false;
      started.once('exit', () => (exited = true));
      await waitUntil(async () => {
        if (exited) throw new Error(`${spec.name} exited during start-up; see ${spec.logFile}`);
        const res = await fetch(spec.readyUrl, { headers: spec.readyHeaders }).catch(() => undefined);
        return res?.ok ?? false;
      }, 90_000, `${spec.name} ready at ${spec.readyUrl}`);
    },
    async stop() {
      if (child) await stopGroup(child);
      child = undefined;
    },
  };
}

/**
 * SIGTERM to the process group this script started (npm, tsx and node alike), then wait until
 * every process of the group is gone, so the port is free again (SIGKILL after 30 s).
 */
async function stopGroup(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || !groupAlive(pid)) return;
  signalGroup(pid, 'SIGTERM');
  const killAt = Date.now() + 30_000;
  while (groupAlive(pid)) {
    if (Date.now() > killAt) signalGroup(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false; // ESRCH: no process left in the group
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group ended between the check and the signal
  }
}

export async function waitUntil(check: () => Promise<unknown>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port); // a listening TCP server's address is an object
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}
