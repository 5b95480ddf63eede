/** `/dashboard` as served by the app (issue 12): the dev sign-in exists only on the public dev AUTH_SECRET, and an unbuilt app says how to build it. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyToken } from '../../server/auth/token.ts';
import { DEV_AUTH_SECRET } from '../../server/env.ts';
import { createDashboardRoute, DASHBOARD_STAMP } from '../../server/http/dashboardRoute.ts';
import { securityHeaders } from '../../server/security/securityHeaders.ts';
import { TEST_AUTH_SECRET } from '../support/testServer.ts';

let build: string;
let empty: string;
const servers: Server[] = [];

/** The route as createApp mounts it, behind the app-wide security headers. */
async function serve(options: Parameters<typeof createDashboardRoute>[0]): Promise<string> {
  const app = express();
  app.use(securityHeaders({ publicUrl: 'http://127.0.0.1' }));
  app.use('/dashboard', createDashboardRoute(options));
  const server = createServer(app);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/dashboard`; // a TCP listener's address
}

beforeAll(() => {
  build = mkdtempSync(join(tmpdir(), 'jobwire-dashboard-'));
  mkdirSync(join(build, 'assets'));
  writeFileSync(join(build, 'index.html'), '<!doctype html><title>app</title>');
  writeFileSync(join(build, 'assets', 'index-abc123.js'), 'export {}');
  writeFileSync(join(build, DASHBOARD_STAMP), '{}');
  empty = mkdtempSync(join(tmpdir(), 'jobwire-dashboard-empty-'));
});
afterAll(() => {
  for (const server of servers) server.close();
  rmSync(build, { recursive: true, force: true });
  rmSync(empty, { recursive: true, force: true });
});

describe('the dev sign-in', () => {
  it('mints member, admin and operator tokens for the dev organization on the dev AUTH_SECRET', async () => {
    const url = await serve({ authSecret: DEV_AUTH_SECRET, dir: build });
    expect(await (await fetch(`${url}/api/dev-token`)).json()).toEqual({ enabled: true, organizationId: 1 });
    for (const role of ['member', 'admin', 'operator'] as const) {
      const response = await fetch(`${url}/api/dev-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ role }) });
      expect(response.headers.get('cache-control')).toBe('no-store');
      const { token } = (await response.json()) as { token: string };
      expect(await verifyToken(token, DEV_AUTH_SECRET)).toEqual({ userId: '1', organizationId: 1, role });
    }
    const bad = await fetch(`${url}/api/dev-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ role: 'root' }) });
    expect(bad.status).toBe(400);
  });

  it('does not exist on any other secret (production refuses the dev one, so never in production)', async () => {
    const url = await serve({ authSecret: TEST_AUTH_SECRET, dir: build });
    expect(await (await fetch(`${url}/api/dev-token`)).json()).toEqual({ enabled: false, organizationId: 1 });
    const response = await fetch(`${url}/api/dev-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ role: 'operator' }) });
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain('eyJ');
  });
});

describe('serving the app', () => {
  it("answers client routes with index.html under the dashboard's CSP, and caches hashed assets for a year", async () => {
    const url = await serve({ authSecret: TEST_AUTH_SECRET, dir: build });
    for (const path of ['', '/', '/jobs', '/jobs/0b7a2a4e-1111-4222-8333-944445555666?x=1']) {
      const page = await fetch(`${url}${path}`);
      expect([page.status, await page.text()]).toEqual([200, '<!doctype html><title>app</title>']);
      expect(page.headers.get('cache-control')).toBe('no-cache');
      expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'none'; script-src 'self'; style-src 'self';.*frame-ancestors 'none'$/);
      expect(page.headers.get('x-frame-options')).toBe('DENY');
    }
    const asset = await fetch(`${url}/assets/index-abc123.js`);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${url}/assets/nope.js`)).status).toBe(404);
    expect((await fetch(`${url}/api/nope`)).status).toBe(404);
  });

  it('says how to build it when the directory holds no finished build', async () => {
    const url = await serve({ authSecret: TEST_AUTH_SECRET, dir: empty });
    const response = await fetch(`${url}/jobs`);
    expect(response.status).toBe(503);
    expect(await response.text()).toContain('npm run build:dashboard');
    // The dev sign-in does not depend on the build.
    expect((await fetch(`${url}/api/dev-token`)).status).toBe(200);
  });
});
