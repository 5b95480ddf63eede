import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { verifyToken } from '../../server/auth/token.ts';

const SECRET = 'cli-test-secret-0123456789abcdef-0123';
const run = promisify(execFile);
// Each case starts a tsx process; under a loaded CI machine that alone can take many seconds.
const SPAWN_TIMEOUT = 90_000;

function token(...args: string[]) {
  return tokenWith({}, ...args);
}

function tokenWith(env: Record<string, string>, ...args: string[]) {
  return run(process.execPath, ['--import', 'tsx', 'server/auth/tokenCli.ts', ...args], {
    env: { ...process.env, AUTH_SECRET: SECRET, NODE_ENV: 'test', ...env },
  });
}

describe('npm run token', () => {
  it('prints only a token for the given caller', async () => {
    const { stdout, stderr } = await token('--user', '42', '--org', '7', '--role', 'admin');
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(await verifyToken(stdout.trim(), SECRET)).toEqual({ userId: '42', organizationId: 7, role: 'admin' });
  }, SPAWN_TIMEOUT);

  it.each([
    ['no arguments', []],
    ['a bad role', ['--user', '1', '--org', '1', '--role', 'owner']],
    ['a non-integer org', ['--user', '1', '--org', 'acme', '--role', 'member']],
    ['a bad expiry', ['--user', '1', '--org', '1', '--role', 'member', '--expires', 'soon']],
    ['an unknown flag', ['--user', '1', '--org', '1', '--role', 'member', '--admin']],
  ])('exits 2 with usage on %s', async (_name, args) => {
    const failure = (await token(...args).then(() => null, (error: unknown) => error)) as { code: number; stdout: string; stderr: string } | null;
    expect(failure?.code).toBe(2);
    expect(failure?.stdout).toBe('');
    expect(failure?.stderr).toContain('usage: npm run token');
  }, SPAWN_TIMEOUT);
});

describe('npm run token: lifetime', () => {
  it('issues 12-hour tokens by default', async () => {
    const { stdout } = await token('--user', '42', '--org', '7', '--role', 'member');
    const claims = decodeJwt(stdout.trim());
    expect(Number(claims.exp) - Number(claims.iat)).toBe(12 * 3600);
  }, SPAWN_TIMEOUT);

  it('refuses an --expires longer than AUTH_MAX_TOKEN_LIFETIME, naming it', async () => {
    const failure = (await token('--user', '1', '--org', '1', '--role', 'member', '--expires', '30d').then(() => null, (error: unknown) => error)) as { code: number; stdout: string; stderr: string } | null;
    expect(failure).toMatchObject({ code: 2, stdout: '' });
    expect(failure?.stderr).toContain('AUTH_MAX_TOKEN_LIFETIME');
    const { stdout } = await tokenWith({ AUTH_MAX_TOKEN_LIFETIME: '31d' }, '--user', '1', '--org', '1', '--role', 'member', '--expires', '30d');
    expect(Number(decodeJwt(stdout.trim()).exp) - Number(decodeJwt(stdout.trim()).iat)).toBe(30 * 86_400);
  }, SPAWN_TIMEOUT);
});
