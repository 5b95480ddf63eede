/**
 * jobwire as a separate OS process, the way `npm start` runs it, for the deploy tests: a private
 * copy of the sources (isolated from edits made while the suite runs) compiled with the repo's
 * build script, started with a chosen environment and working directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabaseTarget, TEST_DRIVER } from '../support/testDatabase.ts';
import { waitFor } from '../support/testServer.ts';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));

/**
 * A copy of what `npm start` needs (server/, shared/, drizzle/, scripts/, package.json) inside the
 * repo's node_modules/.cache, so compiled files still find the dependencies in node_modules.
 */
export function copyCheckout(name: string): { dir: string; remove(): void } {
  const parent = join(REPO, 'node_modules', '.cache', 'jobwire-deploy-tests');
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, `${name}-${TEST_DRIVER}-`));
  for (const entry of ['server', 'shared', 'drizzle', 'scripts', 'package.json']) cpSync(join(REPO, entry), join(dir, entry), { recursive: true });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A checkout compiled into its dist/ (`npm run build`). */
export async function compiledCheckout(name: string): Promise<{ dir: string; main: string; remove(): void }> {
  const checkout = copyCheckout(name);
  const build = await runToExit(spawn(process.execPath, ['scripts/build.mjs'], { cwd: checkout.dir, stdio: ['ignore', 'pipe', 'pipe'] }));
  if (build.code !== 0) throw new Error(`the build failed:\n${build.output}`);
  return { ...checkout, main: join(checkout.dir, 'dist', 'server', 'main.js') };
}

export interface JobwireProcess {
  readonly child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  stderr(): string;
  /** The API's base URL from the start-up banner, once the process says it is running. */
  ready(): Promise<string>;
  /** The first capture of `pattern` in the output, once it shows; throws if the process exits first. */
  waitForOutput(pattern: RegExp): Promise<string>;
  /** Resolves with the exit code (null after a signal). */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Starts `node <args>` in `cwd` with exactly `env` (plus PATH): nothing leaks in from the test runner. */
export function startJobwire(args: string[], { cwd, env }: { cwd: string; env: Record<string, string | undefined> }): JobwireProcess {
  const child = spawn(process.execPath, args, { cwd, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => void (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => void ((output += chunk.toString()), (stderr += chunk.toString())));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve((exitCode = code))));
  return {
    child,
    output: () => output,
    stderr: () => stderr,
    exited,
    async waitForOutput(pattern) {
      // Generous: a cold PGlite start takes many seconds while the rest of the suite loads both cores.
      await waitFor(() => exitCode !== undefined || pattern.test(output), { timeout: 180_000, interval: 50 });
      const match = pattern.exec(output)?.[1];
      if (match === undefined) throw new Error(`the process exited with code ${exitCode} before printing ${pattern}:\n${output}`);
      return match;
    },
    ready() {
      return this.waitForOutput(/jobwire is running[\s\S]*API \(tRPC\)\s+(http:\/\/\S+)\/trpc/);
    },
    async stop() {
      if (exitCode === undefined) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Runs a process to its end; resolves with its exit code and output. */
export async function runToExit(child: ChildProcess): Promise<{ code: number | null; output: string }> {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => void (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => void (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, output };
}

/**
 * The environment of a throwaway jobwire on this vitest project's database: a fresh PostgreSQL
 * database (DATABASE_URL) or PGlite in a fresh DATA_DIR, free ports, quiet logs.
 */
export async function throwawayEnv(): Promise<{ env: Record<string, string>; dataDir: string; drop(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'jobwire-deploy-'));
  const target = TEST_DRIVER === 'postgres' ? await createTestDatabaseTarget('postgres') : undefined;
  return {
    dataDir,
    env: { NODE_ENV: 'test', PORT: '0', QSTASH_DEV_PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...(target?.url ? { DATABASE_URL: target.url } : {}) },
    async drop() {
      await target?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Addresses with a TCP socket listening on `port`, read from the kernel's tables (/proc/net/tcp, tcp6). */
export function listeningAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return ['tcp', 'tcp6'].flatMap((table) =>
    readFileSync(`/proc/net/${table}`, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields[3] === '0A' && fields[1]?.endsWith(`:${hexPort}`)) // 0A: LISTEN
      .map((fields) => decodeAddress(fields[1]!.split(':')[0]!)),
  );
}

/** /proc/net's hex address: IPv4 as one little-endian word, IPv6 as four. */
function decodeAddress(hex: string): string {
  const words = hex.match(/.{8}/g)!.map((word) => word.match(/../g)!.reverse().join('')); // 8 or 32 hex digits
  if (words.length === 1) return words[0]!.match(/../g)!.map((byte) => parseInt(byte, 16)).join('.');
  const groups = words.join('').match(/.{4}/g)!.map((group) => parseInt(group, 16).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::').replace(/^:::?$/, '::');
}
