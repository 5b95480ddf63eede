import { randomBytes } from 'node:crypto';

const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let offset = 0;

/**
 * `bytes` fresh random bytes from the CSPRNG, encoded. Drawn from a pooled 4 KB buffer: one
 * `randomBytes` call serves a few hundred message ids and JWT ids instead of one each. Every byte
 * is handed out once.
 */
export function randomToken(bytes: number, encoding: 'hex' | 'base64url'): string {
  if (offset + bytes > pool.length) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  const token = pool.toString(encoding, offset, offset + bytes);
  offset += bytes;
  return token;
}
