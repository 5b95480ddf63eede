/**
 * Production guards: refusing unsafe production configuration with a message that says what to
 * fix; security headers on every non-tRPC route; CORS only for configured origins.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_AUTH_SECRET, loadEnv, productionProblems, QSTASH_DEV_CURRENT_SIGNING_KEY } from '../../server/env.ts';
import { securityHeaders } from '../../server/security/securityHeaders.ts';
import { startSecurityServer, type SecurityServer } from './support/securityServer.ts';

const PRODUCTION = {
  NODE_ENV: 'production',
  PUBLIC_URL: 'https://jobs.example.com',
  DATABASE_URL: 'postgres://jobwire@db.internal:5432/jobwire',
  QSTASH_TOKEN: 'qstash-token-from-console',
  QSTASH_CURRENT_SIGNING_KEY: 'sig_ConsoleCurrentKey0123456789',
  QSTASH_NEXT_SIGNING_KEY: 'sig_ConsoleNextKey0123456789ab',
  AUTH_SECRET: 'a-random-production-secret-0123456789abcdef',
  RESEND_API_KEY: 're_production_key_0123456789',
};

const refusal = (overrides: Record<string, string | undefined>) => {
  try {
    loadEnv({ ...PRODUCTION, ...overrides });
    return null;
  } catch (error) {
    return (error as Error).message;
  }
};

describe('production configuration', () => {
  it('starts with a complete production configuration', () => {
    expect(refusal({})).toBeNull();
    expect(productionProblems(loadEnv(PRODUCTION))).toEqual([]);
  });

  it.each([
    ['the dev AUTH_SECRET from .env.example', { AUTH_SECRET: DEV_AUTH_SECRET }, /AUTH_SECRET .*set a random secret/],
    ['a QStash dev signing key', { QSTASH_CURRENT_SIGNING_KEY: QSTASH_DEV_CURRENT_SIGNING_KEY }, /dev-server key: use the signing keys your Upstash console shows/],
    ['QSTASH_DEV set', { QSTASH_DEV: 'true' }, /QSTASH_DEV is set.*Unset QSTASH_DEV/],
    ['QSTASH_DEV set to "false"', { QSTASH_DEV: 'false' }, /Unset QSTASH_DEV/],
    ['an http PUBLIC_URL', { PUBLIC_URL: 'http://jobs.example.com' }, /PUBLIC_URL is http:\/\/jobs\.example\.com: set it to this server's public https URL/],
    ['no PUBLIC_URL (the http default)', { PUBLIC_URL: undefined }, /PUBLIC_URL is http:\/\/127\.0\.0\.1:3000/],
    ['an http AUTH_JWKS_URL', { AUTH_JWKS_URL: 'http://auth.example.com/jwks.json' }, /AUTH_JWKS_URL must be an https URL/],
    ['no DATABASE_URL', { DATABASE_URL: undefined }, /DATABASE_URL is not set/],
    ['no RESEND_API_KEY', { RESEND_API_KEY: undefined }, /RESEND_API_KEY is not set/],
  ])('refuses %s and says what to fix', (_name, overrides, message) => {
    expect(refusal(overrides)).toMatch(/^Refusing to start in production:/);
    expect(refusal(overrides)).toMatch(message);
  });

  it('lists every problem at once', () => {
    const message = refusal({ AUTH_SECRET: DEV_AUTH_SECRET, QSTASH_DEV: '1', PUBLIC_URL: 'http://x.example' });
    expect(message?.split('\n  - ')).toHaveLength(4);
  });

  it('allows QSTASH_DEV and http URLs outside production', () => {
    expect(() => loadEnv({ NODE_ENV: 'development', QSTASH_DEV: 'true', AUTH_JWKS_URL: 'http://127.0.0.1:9/jwks.json' })).not.toThrow();
  });

  it('validates ENQUEUE_RATE_LIMIT and CORS_ORIGINS', () => {
    expect(loadEnv({}).ENQUEUE_RATE_LIMIT).toEqual({ tokens: 600, perMs: 60_000 });
    expect(loadEnv({ ENQUEUE_RATE_LIMIT: 'off' }).ENQUEUE_RATE_LIMIT).toBeNull();
    expect(loadEnv({ CORS_ORIGINS: 'https://a.example, https://b.example:8443/' }).CORS_ORIGINS).toEqual(['https://a.example', 'https://b.example:8443']);
    expect(() => loadEnv({ ENQUEUE_RATE_LIMIT: 'lots' })).toThrow(/ENQUEUE_RATE_LIMIT: "lots" is not a rate/);
    expect(() => loadEnv({ CORS_ORIGINS: 'https://a.example/app' })).toThrow(/CORS_ORIGINS: .*origin only/);
  });

  it('makes `npm start` exit with the message instead of serving', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      env: { PATH: process.env.PATH, ...PRODUCTION, AUTH_SECRET: DEV_AUTH_SECRET, QSTASH_DEV: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).not.toBe(0);
    expect(output).toContain('Refusing to start in production');
    expect(output).toContain('Unset QSTASH_DEV');
    expect(output).not.toContain('jobwire is running');
  }, 90_000); // a tsx process: slow to start on a loaded machine
});

const BASE_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-resource-policy': 'same-origin',
};

describe('security headers and CORS', () => {
  const APP_ORIGIN = 'https://app.example.test';
  let plain: SecurityServer;
  let configured: SecurityServer;
  beforeAll(async () => {
    [plain, configured] = await Promise.all([startSecurityServer(), startSecurityServer({ security: { corsOrigins: [APP_ORIGIN] } })]);
  });
  afterAll(async () => {
    await plain?.stopAndScan();
    await configured?.stopAndScan();
  });

  it('sets them on every non-tRPC response: probes, 404s, refused deliveries, 413s', async () => {
    const base = plain.server.url;
    const responses = [
      await fetch(`${base}/healthz`),
      await fetch(`${base}/readyz`),
      await fetch(`${base}/nowhere`),
      await fetch(`${base}/api/jobs/email`, { method: 'POST', body: '{}' }),
      await fetch(`${base}/api/jobs/email`, { method: 'POST', body: 'x'.repeat(2 * 1024 * 1024) }),
      await fetch(`${base}/api/stripe/webhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
      await fetch(`${base}/api/webhooks/github`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
      await fetch(`${base}/api/webhooks/unknown`, { method: 'POST', body: '{}' }),
      await fetch(`${base}/api/files/00000000-0000-4000-8000-000000000000`),
    ];
    for (const res of responses) {
      for (const [name, value] of Object.entries(BASE_HEADERS)) expect(res.headers.get(name), `${res.url} ${name}`).toBe(value);
      expect(res.headers.get('strict-transport-security')).toBeNull(); // PUBLIC_URL is http here
      expect(res.headers.get('x-powered-by')).toBeNull();
    }
    const trpc = await fetch(`${base}/trpc/jobs.list?input=%7B%22json%22%3A%7B%7D%7D`);
    expect(trpc.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('adds HSTS when the public URL is https', async () => {
    const app = express().use(securityHeaders({ publicUrl: 'https://jobs.example.com' })).get('/x', (_req, res) => void res.send('ok'));
    const server = createServer(app).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/x`);
    expect(res.headers.get('strict-transport-security')).toBe('max-age=15552000');
    server.close();
  });

  it('sends no CORS headers by default', async () => {
    const res = await fetch(`${plain.server.url}/trpc/jobs.list`, { method: 'OPTIONS', headers: { origin: APP_ORIGIN, 'access-control-request-method': 'GET' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers preflights from configured origins only, and never allows credentials', async () => {
    const url = `${configured.server.url}/trpc/jobs.enqueue`;
    const preflight = (origin: string) => fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });
    const ok = await preflight(APP_ORIGIN);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(ok.headers.get('access-control-allow-headers')).toContain('authorization');
    expect(ok.headers.get('access-control-allow-credentials')).toBeNull();
    const refused = await preflight('https://evil.example');
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    const actual = await fetch(`${configured.server.url}/trpc/jobs.list?input=%7B%22json%22%3A%7B%7D%7D`, { headers: { origin: APP_ORIGIN, authorization: `Bearer ${await configured.token()}` } });
    expect(actual.status).toBe(200);
    expect(actual.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(actual.headers.get('vary')).toContain('Origin');
  });
});
