import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TEST_DRIVER } from '../support/testDatabase.ts';

const ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * postgres.js 3.4.9 threw an uncaught `TypeError … reading 'write'` (the process died) when a
 * transaction's backend was terminated; scripts/patches/apply.mjs (postinstall) fixes it. Each case
 * runs in a child process, since the bug kills its process.
 */
const SCRIPT = fileURLToPath(new URL('./fixtures/terminateTransactions.mjs', import.meta.url));

describe.skipIf(TEST_DRIVER !== 'postgres')('postgres.js when the database terminates its connections', () => {
  for (const variant of ['mid-statement', 'between-statements', 'storm']) {
    it(`keeps the process alive (${variant})`, () => {
      const run = spawnSync(process.execPath, [SCRIPT, variant], {
        cwd: process.cwd(),
        env: { ...process.env, URL: ADMIN_URL },
        encoding: 'utf8',
        timeout: 25_000,
      });
      expect(run.stdout.trim(), run.stderr).toBe('survived');
      expect(run.status).toBe(0);
    });
  }
});
