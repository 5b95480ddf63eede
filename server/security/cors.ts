import type { RequestHandler } from 'express';

/** What browsers may send to /trpc cross-origin: the bearer token, JSON, tRPC's own headers. */
const ALLOWED_HEADERS = 'authorization, content-type, trpc-accept, x-request-id, x-trpc-source';
const PREFLIGHT_MAX_AGE_S = '600';

/**
 * CORS for `/trpc`. `origins` are exact origins (`https://app.example.com`), or `*` for any.
 * Default none: no CORS headers, so browsers on other origins cannot read responses.
 * Credentials are never allowed: jobwire authenticates with bearer tokens, not cookies.
 */
export function cors(origins: readonly string[]): RequestHandler {
  const any = origins.includes('*');
  const allowed = new Set(origins);
  return (req, res, next) => {
    const origin = req.header('origin');
    res.vary('Origin');
    const ok = origin !== undefined && (any || allowed.has(origin));
    if (ok) res.setHeader('Access-Control-Allow-Origin', any ? '*' : origin);
    if (req.method !== 'OPTIONS') return next();
    if (!ok) return void res.status(403).json({ error: 'origin not allowed' });
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
    res.setHeader('Access-Control-Max-Age', PREFLIGHT_MAX_AGE_S);
    res.status(204).end();
  };
}

/** Parses `CORS_ORIGINS`: a comma list of origins, or `*`. Throws on a value that is not an origin. */
export function parseCorsOrigins(value: string): string[] {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) {
    if (item === '*') continue;
    let origin: string;
    try {
      origin = new URL(item).origin;
    } catch {
      throw new Error(`"${item}" is not an origin such as https://app.example.com`);
    }
    if (origin !== item.replace(/\/+$/, '')) throw new Error(`"${item}" must be an origin only (scheme://host[:port]), without a path`);
  }
  return items.map((s) => (s === '*' ? s : s.replace(/\/+$/, '')));
}
