import { createHmac, timingSafeEqual } from 'node:crypto';

/** How long a signed download link in a job's result stays valid. Default 24 h. */
export const DEFAULT_LINK_TTL_MS = 24 * 3600_000;

// A key of its own, derived from AUTH_SECRET: a download signature can never pass for a token
// signature or the other way round.
const linkKey = (secret: string) => createHmac('sha256', secret).update('jobwire:file-download-link:v1').digest();

const signatureOf = (fileId: string, expires: number, secret: string) =>
  createHmac('sha256', linkKey(secret)).update(`${fileId}:${expires}`).digest('base64url');

/** `<publicUrl>/api/files/<fileId>?expires=<unix s>&sig=<hmac>`: anyone holding it may download until `expiresAt`. */
export function signFileLink(opts: { publicUrl: string; fileId: string; expiresAt: Date; secret: string }): string {
  const expires = Math.floor(opts.expiresAt.getTime() / 1000);
  const sig = signatureOf(opts.fileId, expires, opts.secret);
  return `${opts.publicUrl}/api/files/${opts.fileId}?expires=${expires}&sig=${sig}`;
}

/** A link for `file` valid `ttlMs` from `now`, or until the file itself expires if that is sooner. */
export function linkToFile(
  opts: { publicUrl: string; secret: string; ttlMs?: number | undefined },
  file: { id: string; expiresAt: Date },
  now = Date.now(),
): { downloadUrl: string; expiresAt: Date } {
  const expiresAt = new Date(Math.min(now + (opts.ttlMs ?? DEFAULT_LINK_TTL_MS), file.expiresAt.getTime()));
  return { downloadUrl: signFileLink({ publicUrl: opts.publicUrl, fileId: file.id, expiresAt, secret: opts.secret }), expiresAt };
}

export type LinkCheck = 'valid' | 'expired' | 'invalid';

/** Checks a link's `expires` and `sig` query values in constant time. */
export function checkFileLink(opts: { fileId: string; expires: unknown; sig: unknown; secret: string; now?: number }): LinkCheck {
  if (typeof opts.expires !== 'string' || !/^[0-9]{1,12}$/.test(opts.expires) || typeof opts.sig !== 'string') return 'invalid';
  const expires = Number(opts.expires);
  const expected = Buffer.from(signatureOf(opts.fileId, expires, opts.secret));
  const given = Buffer.from(opts.sig);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
  return expires * 1000 < (opts.now ?? Date.now()) ? 'expired' : 'valid';
}
