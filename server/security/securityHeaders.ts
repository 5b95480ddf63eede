import type { RequestHandler } from 'express';

/** Mirrors helmet's defaults that matter for a JSON API (no dependency for six headers). */
const BASE_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  // Nothing served here is meant to run in a browser: a download or error page can load nothing.
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'Cross-Origin-Resource-Policy': 'same-origin',
} as const;

/** 180 days; no includeSubDomains, which would bind sibling hosts this server doesn't own. */
const HSTS = 'max-age=15552000';

/**
 * Security headers for every route except `/trpc` (its browser clients may be cross-origin,
 * governed by CORS; it still gets `nosniff`). HSTS only when the public URL is https.
 */
export function securityHeaders(options: { publicUrl: string }): RequestHandler {
  const https = options.publicUrl.startsWith('https:');
  return (req, res, next) => {
    if (req.path === '/trpc' || req.path.startsWith('/trpc/')) {
      res.setHeader('X-Content-Type-Options', 'nosniff');
      return next();
    }
    for (const [name, value] of Object.entries(BASE_HEADERS)) res.setHeader(name, value);
    if (https) res.setHeader('Strict-Transport-Security', HSTS);
    next();
  };
}
