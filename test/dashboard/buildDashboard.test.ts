/**
 * `npm start` builds the dashboard in its own process, then imports the server there: the build must
 * leave NODE_ENV as it found it (Vite sets it to 'production' for its build, and a fresh clone's
 * `npm start` then refused to start as a production server missing its secrets).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TEST_DRIVER } from '../support/testDatabase.ts';

const script = pathToFileURL(join(process.cwd(), 'scripts', 'buildDashboard.mjs')).href;

describe.skipIf(TEST_DRIVER !== 'pglite')('the dashboard build', () => {
  it('leaves NODE_ENV unset in the process that ran it, so npm start stays a development start', () => {
    const outDir = join(mkdtempSync(join(tmpdir(), 'jobwire-dashboard-build-')), 'dashboard');
    try {
      const { NODE_ENV: _unset, ...env } = process.env;
      const printed = execFileSync(
        process.execPath,
        ['--input-type=module', '-e', `const { buildDashboard } = await import(${JSON.stringify(script)}); await buildDashboard(${JSON.stringify(outDir)}); console.log(JSON.stringify({ nodeEnv: process.env.NODE_ENV ?? null }));`],
        { env, encoding: 'utf8' },
      );
      expect(JSON.parse(printed.trim().split('\n').at(-1)!)).toEqual({ nodeEnv: null });
      expect(existsSync(join(outDir, 'index.html'))).toBe(true);
    } finally {
      rmSync(join(outDir, '..'), { recursive: true, force: true });
    }
  }, 120_000);
});
