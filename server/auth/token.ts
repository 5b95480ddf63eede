import { webcrypto } from 'node:crypto';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyOptions } from 'jose';
import { z } from 'zod';

/** The verified identity behind a request. Tenant fields come from here, never from input. */
export const Caller = z.object({
  /** User id, a decimal string (the token's `sub`). */
  userId: z.string().regex(/^[0-9]{1,20}$/, 'userId must be a decimal string'),
  /** Organization id (the token's `org`); a Postgres `integer`. */
  organizationId: z.number().int().min(1).max(2_147_483_647),
  /** `operator` runs the service: cross-organization monitoring; in the jobs API, a member's rights. */
  role: z.enum(['member', 'admin', 'operator']),
});
export type Caller = z.infer<typeof Caller>;

/** The claims jobwire reads from a verified JWT; anything else in the token is ignored. */
const TokenClaims = z.object({
  sub: Caller.shape.userId,
  org: Caller.shape.organizationId,
  role: Caller.shape.role,
});

const ALGORITHM = 'HS256';
/** Allowed clock skew between the token issuer and this server, in seconds. */
const CLOCK_TOLERANCE_S = 5;
/**
 * Longest lifetime (`exp - iat`) a token may have, in seconds (`AUTH_MAX_TOKEN_LIFETIME`). Tokens
 * cannot be revoked, so a leaked one is bounded by this. Default 24 h.
 */
export const DEFAULT_MAX_TOKEN_LIFETIME_S = 24 * 3600;
/** `signToken`'s and `npm run token`'s default lifetime: well within the default maximum. */
export const DEFAULT_TOKEN_LIFETIME = '12h';

/** `iat` required and not in the future (jose's `maxTokenAge`), and `exp - iat` within the maximum. */
function checksFor(maxLifetimeS: number) {
  return { clockTolerance: CLOCK_TOLERANCE_S, requiredClaims: ['exp', 'sub', 'iat'], maxTokenAge: maxLifetimeS } satisfies JWTVerifyOptions;
}
const withinLifetime = (payload: JWTPayload, maxLifetimeS: number) => payload.exp !== undefined && payload.iat !== undefined && payload.exp - payload.iat <= maxLifetimeS;

const keyOf = (secret: string) => new TextEncoder().encode(secret);

/**
 * The verification key of a secret, imported into WebCrypto once: jose imports raw key bytes on
 * every verification (~0.7 ms a call), a CryptoKey it uses as is. Secrets are configuration, so
 * the cache stays tiny; it is bounded all the same.
 */
const verifyKeys = new Map<string, Promise<webcrypto.CryptoKey>>();
function verifyKeyOf(secret: string): Promise<webcrypto.CryptoKey> {
  let key = verifyKeys.get(secret);
  if (!key) {
    if (verifyKeys.size >= 16) verifyKeys.clear();
    key = webcrypto.subtle.importKey('raw', keyOf(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
    verifyKeys.set(secret, key);
  }
  return key;
}

export interface SignTokenOptions {
  /** Lifetime as a jose time span (`'12h'`, `'30m'`, `'-1m'` for an already expired token). Default `'12h'`. */
  expiresIn?: string;
}

export interface VerifyTokenOptions {
  /** Longest `exp - iat` accepted, in seconds. Default `DEFAULT_MAX_TOKEN_LIFETIME_S` (24 h). */
  maxLifetimeS?: number | undefined;
}

/** Parses `AUTH_MAX_TOKEN_LIFETIME`: `<n><unit>` with s, m, h or d (`24h`, `90m`, `7d`). Returns seconds; throws on anything else. */
export function parseTokenLifetime(text: string): number {
  const match = /^([0-9]{1,9})\s*(s|m|h|d)$/.exec(text.trim().toLowerCase());
  const seconds = match ? Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as 's' | 'm' | 'h' | 'd'] : 0; // the regex admits only these units
  if (seconds < 1) throw new Error(`"${text}" is not a lifetime such as 24h, 90m or 7d`);
  return seconds;
}

/** Signs a bearer token for `caller` with `AUTH_SECRET` (HS256). */
export async function signToken(caller: Caller, secret: string, options: SignTokenOptions = {}): Promise<string> {
  const { userId, organizationId, role } = Caller.parse(caller);
  return new SignJWT({ org: organizationId, role })
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? DEFAULT_TOKEN_LIFETIME)
    .sign(keyOf(secret));
}

/**
 * The caller a bearer token proves, or null for any invalid token (bad signature, other
 * algorithm or `alg: none`, expired, missing `exp` or `iat`, `iat` in the future, a lifetime over
 * the maximum, malformed claims). Callers get no detail why.
 */
export async function verifyToken(token: string, secret: string, options: VerifyTokenOptions = {}): Promise<Caller | null> {
  return (await verifyHs256(token, secret, options.maxLifetimeS ?? DEFAULT_MAX_TOKEN_LIFETIME_S))?.caller ?? null;
}

/** A token that verified, and until when (epoch seconds) it stays valid: its `exp`, or `iat` + the maximum lifetime if sooner. */
interface Verified {
  caller: Caller;
  validUntilS: number;
}

async function verifyHs256(token: string, secret: string, maxLifetimeS: number): Promise<Verified | null> {
  try {
    const { payload } = await jwtVerify(token, await verifyKeyOf(secret), { ...checksFor(maxLifetimeS), algorithms: [ALGORITHM] });
    const caller = withinLifetime(payload, maxLifetimeS) ? callerOf(payload) : null;
    // withinLifetime checked that both are present.
    return caller && { caller, validUntilS: Math.min(payload.exp!, payload.iat! + maxLifetimeS) };
  } catch {
    return null;
  }
}

/** Most verified tokens one verifier remembers. */
const REMEMBERED_TOKENS = 1_000;

/**
 * Remembers the HS256 tokens that verified, each until its `validUntilS` (without the clock
 * tolerance, so never past what a fresh check accepts): a client sends the same token with every
 * call, and checking it again is a WebCrypto HMAC, which goes through the thread pool and back
 * (0.3–1.5 ms of every tRPC call's latency). Only the exact string that verified is remembered;
 * tokens cannot be revoked in any case (DEFAULT_MAX_TOKEN_LIFETIME_S).
 */
function rememberVerified(verify: (token: string) => Promise<Verified | null>): TokenVerifier {
  const remembered = new Map<string, Verified>();
  return async (token) => {
    const nowS = Date.now() / 1000;
    const known = remembered.get(token);
    if (known && nowS < known.validUntilS) return { ...known.caller };
    remembered.delete(token);
    const verified = await verify(token);
    if (!verified) return null;
    if (nowS < verified.validUntilS) {
      if (remembered.size >= REMEMBERED_TOKENS) remembered.delete(remembered.keys().next().value!); // not empty: size ≥ 1,000
      remembered.set(token, verified);
    }
    return { ...verified.caller };
  };
}

/** Asymmetric algorithms accepted from a JWKS; each key type verifies only its own algorithm. */
export const JWKS_ALGORITHMS = ['RS256', 'ES256'];

/** Tokens from an external auth provider, verified against its published keys. */
export interface JwksOptions {
  /** `AUTH_JWKS_URL`, e.g. `https://auth.example.com/.well-known/jwks.json`. */
  url: string;
  /** `AUTH_ISSUER`: when set, the token's `iss` must equal it. */
  issuer?: string | undefined;
  /** `AUTH_AUDIENCE`: when set, the token's `aud` must contain it. */
  audience?: string | undefined;
}

export type TokenVerifier = (token: string) => Promise<Caller | null>;

/**
 * HS256 tokens signed with `secret` (`npm run token`, server code), and with `jwks` also RS256 /
 * ES256 tokens signed by a key of that JWKS. The header's `alg` only picks which of the two
 * pinned checks runs: an HS256 token is never checked against a public key, nor an RS256 one
 * against the secret, so algorithm confusion is impossible. JWKS tokens must carry the same
 * `sub`, `org` and `role` claims.
 */
export function createTokenVerifier(options: { secret: string; jwks?: JwksOptions | undefined } & VerifyTokenOptions): TokenVerifier {
  const { jwks } = options;
  const maxLifetimeS = options.maxLifetimeS ?? DEFAULT_MAX_TOKEN_LIFETIME_S;
  const hs256 = rememberVerified((token) => verifyHs256(token, options.secret, maxLifetimeS));
  if (!jwks) return hs256;
  // jose caches the keys, refetches on an unknown `kid` (at most every 30 s) and times out after 5 s.
  const keys = createRemoteJWKSet(new URL(jwks.url), { timeoutDuration: 5_000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 });
  const checks: JWTVerifyOptions = {
    ...checksFor(maxLifetimeS),
    algorithms: JWKS_ALGORITHMS,
    ...(jwks.issuer ? { issuer: jwks.issuer } : {}),
    ...(jwks.audience ? { audience: jwks.audience } : {}),
  };
  return async (token) => {
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      return null;
    }
    if (alg === ALGORITHM) return hs256(token);
    try {
      const { payload } = await jwtVerify(token, keys, checks);
      return withinLifetime(payload, maxLifetimeS) ? callerOf(payload) : null;
    } catch {
      return null; // bad signature, unknown kid, JWKS unreachable: all just "not authenticated"
    }
  };
}

function callerOf(payload: unknown): Caller | null {
  const claims = TokenClaims.safeParse(payload);
  if (!claims.success) return null;
  return { userId: claims.data.sub, organizationId: claims.data.org, role: claims.data.role };
}
