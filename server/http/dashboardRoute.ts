import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';
import { z } from 'zod';
import { signToken } from '../auth/token.ts';
import { DEV_AUTH_SECRET } from '../env.ts';

/** Written by scripts/buildDashboard.mjs into a finished build: a directory without it is not served. */
export const DASHBOARD_STAMP = '.dashboard-stamp.json';

/**
 * The dashboard's own policy: everything from this origin, nothing inline, no other host (fonts
 * and assets are bundled); `/trpc` is same-origin. Framing stays refused.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The organization and user the dev sign-in mints tokens for. */
export const DEV_ORGANIZATION_ID = 1;
const DevRole = z.enum(['member', 'admin', 'operator']);

export interface DashboardRouteOptions {
  authSecret: string;
  /** Where to look for the built app (Vite's output). Default: dist/dashboard, found from this module in the sources or in dist/. */
  dir?: string | undefined;
}

/** dist/dashboard seen from server/http/ (tsx) or from dist/server/http/ (compiled): the first holding a finished build is served. */
const defaultDirs = () => ['../../dist/dashboard/', '../../dashboard/'].map((path) => fileURLToPath(new URL(path, import.meta.url)));

/**
 * `/dashboard`: the built single-page app, its hashed assets cached for a year, every other path
 * answered with index.html (client-side routes), never cached. `POST /dashboard/api/dev-token`
 * mints tokens for the dev organization only while the server runs on the public dev
 * AUTH_SECRET of .env.example: anyone can forge those tokens anyway, and production refuses to
 * start with it (server/env.ts), so the endpoint can never exist in production.
 */
export function createDashboardRoute(options: DashboardRouteOptions): Router {
  const route = Router();
  const devSignIn = options.authSecret === DEV_AUTH_SECRET;
  route.use((_req, res, next) => {
    res.setHeader('Content-Security-Policy', DASHBOARD_CSP);
    next();
  });

  route.get('/api/dev-token', (_req, res) => void res.set('Cache-Control', 'no-store').json({ enabled: devSignIn, organizationId: DEV_ORGANIZATION_ID }));
  route.post('/api/dev-token', express.json({ limit: '1kb' }), async (req, res) => {
    res.set('Cache-Control', 'no-store');
    if (!devSignIn) return void res.status(404).json({ error: 'dev sign-in is off: the server does not run on the dev AUTH_SECRET' });
    const role = DevRole.safeParse((req.body as { role?: unknown } | undefined)?.role);
    if (!role.success) return void res.status(400).json({ error: 'role must be member, admin or operator' });
    const token = await signToken({ userId: '1', organizationId: DEV_ORGANIZATION_ID, role: role.data }, options.authSecret);
    res.json({ token });
  });
  route.use('/api', (_req, res) => void res.status(404).json({ error: 'not found' }));

  const dir = (options.dir === undefined ? defaultDirs() : [options.dir]).find((candidate) => existsSync(join(candidate, DASHBOARD_STAMP)));
  if (!dir) {
    route.use((_req, res) => void res.status(503).type('text/plain').send('The dashboard is not built: run `npm run build:dashboard` (`npm start` builds it when stale).'));
    return route;
  }
  route.use(
    '/assets',
    express.static(join(dir, 'assets'), { immutable: true, maxAge: '365d', index: false, fallthrough: false }),
  );
  route.use(express.static(dir, { index: false, setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache') }));
  // Client-side routes: /dashboard/jobs/…, /dashboard/schedules… all load the app.
  route.get('/{*path}', (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile('index.html', { root: dir }); // `root`: a dot-directory above it (~/.local/…) is not a hidden file
  });
  return route;
}
