import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const WILDCARDS = new Set(['0.0.0.0', '::']);

/**
 * A bind address as `HOST` / `QSTASH_DEV_HOST` take it: an IPv4 or IPv6 address (brackets
 * allowed) or a host name, without scheme or port. Throws a message saying what is accepted.
 */
export function parseHost(value: string): string {
  const host = value.trim().replace(/^\[(.*)\]$/, '$1');
  if (isIP(host) !== 0 || HOST_NAME.test(host)) return host;
  throw new Error(
    `"${value}" is not an address to listen on: use 0.0.0.0 (every interface, IPv4 and IPv6), 127.0.0.1 (this machine only), one of this machine's addresses or a host name, without scheme or port`,
  );
}

/** True for 0.0.0.0 and ::, which mean every interface. */
export const isWildcardHost = (host: string): boolean => WILDCARDS.has(host);

/**
 * The address to pass to `listen`. `0.0.0.0` means every interface, IPv6 included, as
 * containers expect: Node's dual-stack `::` when this machine has IPv6, else `0.0.0.0`.
 */
export function listenHost(host: string): string {
  if (host !== '0.0.0.0') return host;
  const hasIpv6 = Object.values(networkInterfaces()).some((addresses) => addresses?.some((a) => a.family === 'IPv6'));
  return hasIpv6 ? '::' : '0.0.0.0';
}

/** The host part of a URL reaching a server bound to `host` from this machine (a wildcard: loopback). */
export function urlHost(host: string): string {
  if (isWildcardHost(host)) return '127.0.0.1';
  return isIP(host) === 6 ? `[${host}]` : host;
}
