import { lookup as dnsLookup } from 'node:dns/promises';
import { judgeAddress, judgeHost, type PrivateCallbacks } from './addressRanges.ts';

/** Every address a host name resolves to (`dns.lookup` with `all: true`: /etc/hosts included). */
export type HostLookup = (hostname: string) => Promise<string[]>;

export const systemLookup: HostLookup = async (hostname) => (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

/** Where callbacks may go; shared by enqueue (`JobsDeps.callbacks`) and the embedded broker. */
export interface CallbackPolicy {
  /** Non-public addresses callbacks may still reach. Default `refuse`. */
  privateAddresses?: PrivateCallbacks | undefined;
  /** Resolver (tests, custom DNS). Default `dns.lookup`. */
  lookup?: HostLookup | undefined;
}

declare module '../jobs/deps.ts' {
  interface JobsDeps {
    /** Which callback URLs `enqueueJob` accepts. Default: public addresses only. */
    callbacks?: CallbackPolicy | undefined;
  }
}

/** A name that does not resolve within this long is let through: it reaches nothing now, and the embedded broker checks again. */
const LOOKUP_TIMEOUT_MS = 3_000;

/**
 * Why `url` may not be a callback under `policy`, or undefined when it may. Literal addresses in
 * any spelling (`127.1`, `0x7f000001`, `[::ffff:127.0.0.1]`) are normalised by the URL parser;
 * names are refused when they are internal by form, or when any address they resolve to is.
 * A name that does not resolve is not refused here: this check is advice at enqueue time (DNS
 * can change before delivery); the embedded broker enforces the same rule on every connection.
 */
export async function checkCallbackUrl(url: string, policy: CallbackPolicy = {}): Promise<string | undefined> {
  const privateAddresses = policy.privateAddresses ?? 'refuse';
  let hostname: string;
  try {
    hostname = new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return 'it is not a valid URL';
  }
  const judged = judgeHost(hostname, privateAddresses);
  if (judged !== 'resolve') return judged === 'allowed' ? undefined : judged.refused;
  for (const address of await resolve(hostname, policy.lookup ?? systemLookup)) {
    const refused = judgeAddress(hostname, address, privateAddresses);
    if (refused) return refused;
  }
  return undefined;
}

/** The refusal message for a callback URL, naming the rule so an admin knows what to change. */
export function callbackRefusal(what: string, reason: string): string {
  return `${what} refused: ${reason}. Callbacks must reach a public address (PRIVATE_CALLBACKS allows private ones in development)`;
}

async function resolve(hostname: string, lookup: HostLookup): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string[]>((done) => (timer = setTimeout(() => done([]), LOOKUP_TIMEOUT_MS)));
  try {
    return await Promise.race([lookup(hostname).catch(() => []), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
