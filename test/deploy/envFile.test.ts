/**
 * `.env` and `.env.local`: read at start below the real environment (real > .env.local > .env),
 * never in production unless ENV_FILES asks. First the reader itself, then the compiled server
 * and `npm run token` started in a directory holding the files, observed from outside.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobsClient } from '../../client/createJobsClient.ts';
import { signToken } from '../../server/auth/token.ts';
import { loadEnvFiles } from '../../server/envFiles.ts';
import { TEST_DRIVER, createTestDatabaseTarget, type TestDatabaseTarget } from '../support/testDatabase.ts';
import { trpcCode } from '../support/testServer.ts';
import { compiledCheckout, runToExit, startJobwire, type JobwireProcess } from './jobwireProcess.ts';

const dirs: string[] = [];
/** A fresh directory holding these files. */
function directoryWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'jobwire-envfile-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('loadEnvFiles', () => {
  it('reads .env.local over .env, below the real environment, with Node’s env-file syntax', () => {
    const dir = directoryWith({
      '.env': '# comment\nFROM_ENV=env\nBOTH=env\nALL=env\nQUOTED="a b # not a comment"\nexport EXPORTED=yes\nMULTI="one\ntwo"\n',
      '.env.local': 'BOTH=local\nALL=local\n',
    });
    const target: Record<string, string | undefined> = { ALL: 'real', EMPTY_BUT_SET: '' };
    writeFileSync(join(dir, '.env'), 'EMPTY_BUT_SET=from-file\n', { flag: 'a' });
    expect(loadEnvFiles(target, dir)).toEqual(['.env.local', '.env']);
    expect(target).toEqual({ FROM_ENV: 'env', BOTH: 'local', ALL: 'real', EMPTY_BUT_SET: '', QUOTED: 'a b # not a comment', EXPORTED: 'yes', MULTI: 'one\ntwo' });
  });

  it('reads whichever of the two exists, and nothing when neither does', () => {
    const target: Record<string, string> = {};
    expect(loadEnvFiles(target, directoryWith({ '.env.local': 'ONLY=local\n' }))).toEqual(['.env.local']);
    expect(target).toEqual({ ONLY: 'local' });
    expect(loadEnvFiles({}, directoryWith({}))).toEqual([]);
  });

  it('reads no file with NODE_ENV=production, unless ENV_FILES names them', () => {
    const dir = directoryWith({ '.env': 'SECRET=from-env\n', '.env.local': 'LOCAL=yes\n', 'prod.env': 'SECRET=from-prod\n' });
    const production: Record<string, string> = { NODE_ENV: 'production' };
    expect(loadEnvFiles(production, dir)).toEqual([]);
    expect(production).toEqual({ NODE_ENV: 'production' });

    const asked: Record<string, string> = { NODE_ENV: 'production', ENV_FILES: 'prod.env, .env' };
    expect(loadEnvFiles(asked, dir)).toEqual(['prod.env', '.env']);
    expect(asked).toEqual({ NODE_ENV: 'production', ENV_FILES: 'prod.env, .env', SECRET: 'from-prod' });
  });

  it('ENV_FILES=none reads nothing; a named file that is missing is an error naming ENV_FILES', () => {
    const dir = directoryWith({ '.env': 'A=1\n' });
    const target: Record<string, string> = { ENV_FILES: 'none' };
    expect(loadEnvFiles(target, dir)).toEqual([]);
    expect(target).toEqual({ ENV_FILES: 'none' });
    expect(() => loadEnvFiles({ ENV_FILES: 'missing.env' }, dir)).toThrow(/ENV_FILES names missing\.env, which does not exist/);
  });

  it('refuses NODE_ENV=production coming from a file that production would not read', () => {
    const dir = directoryWith({ '.env': 'NODE_ENV=production\n' });
    expect(() => loadEnvFiles({}, dir)).toThrow(/NODE_ENV=production comes from \.env.*set NODE_ENV=production in the real environment, and ENV_FILES=\.env/);
    expect(loadEnvFiles({ NODE_ENV: 'development' }, dir)).toEqual(['.env']); // the real environment wins
  });
});

describe('the compiled server and `npm run token` in a directory with .env files', () => {
  const SECRET_ENV = 'secret-from-dot-env-0123456789abcdef';
  const SECRET_LOCAL = 'secret-from-dot-env-local-0123456789ab';
  let checkout: Awaited<ReturnType<typeof compiledCheckout>>;
  let database: TestDatabaseTarget | undefined;
  let occupied: Server;
  let cwd: string;
  let server: JobwireProcess;
  let url: string;

  beforeAll(async () => {
    occupied = createServer();
    await new Promise<void>((resolve) => occupied.listen(0, '127.0.0.1', resolve));
    const takenPort = (occupied.address() as { port: number }).port; // a TCP listener's address
    database = TEST_DRIVER === 'postgres' ? await createTestDatabaseTarget('postgres') : undefined;
    cwd = directoryWith({
      // PORT here would fail (the port is taken): the real environment's PORT=0 must win.
      '.env': [`PORT=${takenPort}`, `AUTH_SECRET=${SECRET_ENV}`, 'DATA_DIR=data-from-dot-env', 'QSTASH_DEV_PORT=0', 'LOG_LEVEL=warn', ...(database?.url ? [`DATABASE_URL=${database.url}`] : [])].join('\n'),
      '.env.local': `AUTH_SECRET=${SECRET_LOCAL}\n`,
    });
    checkout = await compiledCheckout('env-file');
    server = startJobwire([checkout.main], { cwd, env: { NODE_ENV: 'development', PORT: '0' } });
    url = await server.ready();
  }, 240_000);

  afterAll(async () => {
    await server?.stop();
    await database?.drop();
    occupied?.close();
    checkout?.remove();
  });

  it('starts on the real PORT, with DATA_DIR / DATABASE_URL from .env, and says which files it read', () => {
    expect(server.output()).toContain('Configuration   .env.local, .env below the environment');
    expect(server.output()).toContain(database ? 'Database        PostgreSQL (DATABASE_URL)' : `PGlite in ${join(cwd, 'data-from-dot-env', 'pglite')}`);
  });

  it('takes AUTH_SECRET from .env.local over .env', async () => {
    const call = async (secret: string) => {
      const token = await signToken({ userId: '1', organizationId: 1, role: 'admin' }, secret);
      return createJobsClient({ url: `${url}/trpc`, token }).jobs.list.query({}).then(() => 'OK', trpcCode);
    };
    expect(await call(SECRET_LOCAL)).toBe('OK');
    expect(await call(SECRET_ENV)).toBe('UNAUTHORIZED');
  });

  it('`npm run token` (compiled) signs with the same secret, read from the same files', async () => {
    const tokenCli = join(checkout.dir, 'dist', 'server', 'auth', 'tokenCli.js');
    const result = await runToExit(spawn(process.execPath, [tokenCli, '--user', '1', '--org', '1', '--role', 'admin'], { cwd, env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] }));
    expect(result.code).toBe(0);
    const client = createJobsClient({ url: `${url}/trpc`, token: result.output.trim() });
    await expect(client.jobs.list.query({})).resolves.toMatchObject({ items: [] });
  });

  describe('in production', () => {
    const PRODUCTION = [
      'PUBLIC_URL=https://jobs.example.com',
      'DATABASE_URL=postgres://jobwire@db.internal:5432/jobwire',
      'QSTASH_TOKEN=qstash-token-from-console',
      'QSTASH_CURRENT_SIGNING_KEY=sig_ConsoleCurrentKey0123456789',
      'QSTASH_NEXT_SIGNING_KEY=sig_ConsoleNextKey0123456789ab',
      'AUTH_SECRET=a-random-production-secret-0123456789abcdef',
    ];
    const run = async (files: Record<string, string>, env: Record<string, string>) => {
      const child = startJobwire([checkout.main], { cwd: directoryWith(files), env });
      return { code: await child.exited, stderr: child.stderr(), output: child.output() };
    };

    it('does not read .env: the settings in it do not count', async () => {
      const result = await run({ '.env': PRODUCTION.join('\n') }, { NODE_ENV: 'production' });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('Refusing to start in production');
      expect(result.stderr).toContain('DATABASE_URL is not set');
      expect(result.output).not.toContain('jobwire is running');
    });

    it('reads the files ENV_FILES names', async () => {
      const result = await run({ 'production.env': PRODUCTION.join('\n') }, { NODE_ENV: 'production', ENV_FILES: 'production.env' });
      expect(result.code).toBe(1);
      // Everything came from the file but RESEND_API_KEY, which is the problem left.
      expect(result.stderr).toContain('Refusing to start in production');
      expect(result.stderr).toContain('RESEND_API_KEY is not set');
      for (const fromFile of ['DATABASE_URL', 'QSTASH_TOKEN', 'PUBLIC_URL', 'AUTH_SECRET']) expect(result.stderr).not.toContain(fromFile);
    });

    it('refuses NODE_ENV=production written in .env, saying what to set', async () => {
      const result = await run({ '.env': 'NODE_ENV=production\n' }, {});
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('jobwire could not start: NODE_ENV=production comes from .env');
      expect(result.stderr).toContain('ENV_FILES=.env');
    });
  });
});
