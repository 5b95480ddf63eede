import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as FsPromises from 'node:fs/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDevMailbox } from '../../server/email/devMailbox.ts';
import { TEST_DRIVER } from '../support/testDatabase.ts';

// Counts message writes in flight at once; each write waits (up to 200 ms) for a second one to start.
const inFlight = vi.hoisted(() => ({ now: 0, max: 0, waiters: [] as Array<() => void> }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const original = await importOriginal<typeof FsPromises>();
  const writeFile: typeof original.writeFile = async (...args) => {
    if (!String(args[0]).includes('.tmp') || String(args[0]).includes('idempotency')) return original.writeFile(...args);
    inFlight.now++;
    inFlight.max = Math.max(inFlight.max, inFlight.now);
    inFlight.waiters.splice(0).forEach((wake) => wake());
    if (inFlight.now < 2) await new Promise<void>((resolve) => (inFlight.waiters.push(resolve), setTimeout(resolve, 200)));
    try {
      return await original.writeFile(...args);
    } finally {
      inFlight.now--;
    }
  };
  return { ...original, default: { ...original, writeFile }, writeFile };
});

const CHILD = fileURLToPath(new URL('./fixtures/mailboxCrash.ts', import.meta.url));
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'jobwire-mailbox-fault-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const send = (dir: string, crashAfter = 0) =>
  new Promise<{ stdout: string; stderr: string; signal: NodeJS.Signals | null }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { env: { ...process.env, MAILBOX_DIR: dir, CRASH_AFTER: String(crashAfter) } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('exit', (_code, signal) => resolve({ stdout, stderr, signal }));
  });
const messages = (dir: string) => readdirSync(dir).filter((name) => name.endsWith('.json') && !name.startsWith('.'));

// Files only: the pglite project runs these once.
describe.skipIf(TEST_DRIVER !== 'pglite')('the dev mailbox across a crash', () => {
  it('stores a message once when the server dies at any point of a send and the send is retried', async () => {
    // Each crash point, side by side: killed right after the 1st, 2nd, … file-system write of the send, then sent again.
    const points = [1, 2, 3, 4].map((crashAfter) => ({ crashAfter, dir: tempDir() }));
    const crashed = await Promise.all(points.map(({ crashAfter, dir }) => send(dir, crashAfter)));
    const retried = await Promise.all(points.map(({ dir }) => send(dir)));
    for (const [i, { crashAfter, dir }] of points.entries()) {
      expect(retried[i]!.stdout, retried[i]!.stderr).toBe('sent\n');
      expect({ crashAfter, crashed: crashed[i]!.signal === 'SIGKILL', stored: messages(dir).length }).toEqual({ crashAfter, crashed: crashed[i]!.signal === 'SIGKILL', stored: 1 });
    }
  }, 60_000);
});

describe.skipIf(TEST_DRIVER !== 'pglite')('the dev mailbox under concurrent deliveries', () => {
  it('writes messages of different keys side by side, not one at a time', async () => {
    const mailbox = createDevMailbox({ dir: tempDir() });
    const sends = Array.from({ length: 4 }, (_, i) =>
      mailbox.send({ from: 'a@jobwire.test', to: 'b@jobwire.test', subject: `s${i}`, html: '<p>x</p>', text: 'x', idempotencyKey: `job:${i}:send` }),
    );
    const ids = await Promise.all(sends);
    expect(new Set(ids.map((r) => r.id)).size).toBe(4);
    expect(inFlight.max).toBeGreaterThanOrEqual(2);
    expect(await mailbox.list()).toHaveLength(4);
  });

  it('still stores one message for concurrent sends with one key', async () => {
    const mailbox = createDevMailbox({ dir: tempDir() });
    const message = { from: 'a@jobwire.test', to: 'b@jobwire.test', subject: 'same', html: '<p>x</p>', text: 'x', idempotencyKey: 'job:same:send' };
    const ids = await Promise.all([mailbox.send(message), mailbox.send(message), mailbox.send(message)]);
    expect(new Set(ids.map((r) => r.id)).size).toBe(1);
    expect(await mailbox.list()).toHaveLength(1);
  });
});
