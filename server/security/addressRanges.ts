/**
 * Which addresses a callback may reach. A callback is a request this machine makes to a URL an
 * admin chose, so an address that is only meaningful inside this network (loopback, link-local
 * with the cloud metadata service, RFC 1918, unique local…) would turn it into a probe of
 * internal services (SSRF).
 */
import { BlockList, isIP } from 'node:net';

/**
 * What callbacks may reach besides public addresses: `refuse` nothing else, `loopback` also this
 * machine (a local service in development), `allow` anything (a trusted development network).
 */
export type PrivateCallbacks = 'refuse' | 'loopback' | 'allow';
export const PRIVATE_CALLBACKS = ['refuse', 'loopback', 'allow'] as const satisfies readonly PrivateCallbacks[];

/** `public`, or why not: `loopback`, or another range that is not publicly routable. */
export type AddressClass = { kind: 'public' } | { kind: 'loopback' | 'private'; range: string };

const IPV4: [string, number, AddressClass][] = [
  ['0.0.0.0', 8, { kind: 'private', range: 'the unspecified "this network" range 0.0.0.0/8' }],
  ['10.0.0.0', 8, { kind: 'private', range: 'the private range 10.0.0.0/8' }],
  ['100.64.0.0', 10, { kind: 'private', range: 'the shared (carrier-grade NAT) range 100.64.0.0/10' }],
  ['127.0.0.0', 8, { kind: 'loopback', range: 'the loopback range 127.0.0.0/8' }],
  ['169.254.0.0', 16, { kind: 'private', range: 'the link-local range 169.254.0.0/16 (cloud metadata)' }],
  ['172.16.0.0', 12, { kind: 'private', range: 'the private range 172.16.0.0/12' }],
  ['192.0.0.0', 24, { kind: 'private', range: 'the IETF protocol range 192.0.0.0/24' }],
  ['192.0.2.0', 24, { kind: 'private', range: 'a documentation range' }],
  ['192.168.0.0', 16, { kind: 'private', range: 'the private range 192.168.0.0/16' }],
  ['198.18.0.0', 15, { kind: 'private', range: 'the benchmarking range 198.18.0.0/15' }],
  ['198.51.100.0', 24, { kind: 'private', range: 'a documentation range' }],
  ['203.0.113.0', 24, { kind: 'private', range: 'a documentation range' }],
  ['224.0.0.0', 4, { kind: 'private', range: 'the multicast range 224.0.0.0/4' }],
  ['240.0.0.0', 4, { kind: 'private', range: 'the reserved range 240.0.0.0/4' }],
];
const IPV6: [string, number, AddressClass][] = [
  ['::1', 128, { kind: 'loopback', range: 'the loopback address ::1' }],
  ['::', 96, { kind: 'private', range: 'the unspecified or IPv4-compatible range ::/96' }],
  ['64:ff9b:1::', 48, { kind: 'private', range: 'the local NAT64 range 64:ff9b:1::/48' }],
  ['100::', 64, { kind: 'private', range: 'the discard range 100::/64' }],
  ['2001:db8::', 32, { kind: 'private', range: 'a documentation range' }],
  ['fc00::', 7, { kind: 'private', range: 'the unique local range fc00::/7' }],
  ['fe80::', 10, { kind: 'private', range: 'the link-local range fe80::/10' }],
  ['fec0::', 10, { kind: 'private', range: 'the site-local range fec0::/10' }],
  ['ff00::', 8, { kind: 'private', range: 'the multicast range ff00::/8' }],
];

const rules = (family: 'ipv4' | 'ipv6', list: [string, number, AddressClass][]) =>
  list.map(([network, prefix, cls]) => {
    const block = new BlockList();
    block.addSubnet(network, prefix, family);
    return { block, cls };
  });
const RULES = { ipv4: rules('ipv4', IPV4), ipv6: rules('ipv6', IPV6) };

/** The class of an IP address literal (IPv4, or IPv6 without brackets). Not an IP: throws. */
export function classifyAddress(address: string): AddressClass {
  const ip = address.split('%')[0] ?? address; // a zone index (fe80::1%eth0) names an interface, not a range
  const family = isIP(ip);
  if (family === 0) throw new Error(`not an IP address: ${address}`);
  if (family === 6) {
    // IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address.
    const embedded = embeddedIpv4(ip);
    if (embedded) return classifyAddress(embedded);
  }
  const found = RULES[family === 4 ? 'ipv4' : 'ipv6'].find((rule) => rule.block.check(ip, family === 4 ? 'ipv4' : 'ipv6'));
  return found?.cls ?? { kind: 'public' };
}

/** Host names that never name a public host, whatever a resolver says: localhost and internal suffixes. */
export function classifyHostName(hostname: string): AddressClass | undefined {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return { kind: 'loopback', range: 'a loopback name' };
  if (!name.includes('.')) return { kind: 'private', range: 'a single-label (internal) host name' };
  if (/\.(local|internal|intranet|lan|home\.arpa|localdomain)$/.test(name)) return { kind: 'private', range: 'an internal host name' };
  return undefined;
}

/** The range for which `policy` refuses an address of this class; undefined when it is allowed. */
export function refusedRange(policy: PrivateCallbacks, cls: AddressClass): string | undefined {
  if (cls.kind === 'public' || policy === 'allow' || (policy === 'loopback' && cls.kind === 'loopback')) return undefined;
  return cls.range;
}

/**
 * What `policy` says of a URL's host (brackets stripped) before any lookup: `refused` with why
 * for an address literal in any spelling (the URL parser normalised it) or a name internal by
 * form, `allowed`, or `resolve` when only the addresses a name resolves to can tell.
 */
export function judgeHost(hostname: string, policy: PrivateCallbacks): { refused: string } | 'allowed' | 'resolve' {
  if (policy === 'allow') return 'allowed';
  if (isIP(hostname)) {
    const range = refusedRange(policy, classifyAddress(hostname));
    return range ? { refused: `${hostname} is in ${range}` } : 'allowed';
  }
  const byName = classifyHostName(hostname);
  if (!byName) return 'resolve';
  const range = refusedRange(policy, byName);
  return range ? { refused: `${hostname} is ${range}` } : 'allowed';
}

/** Why `policy` refuses `hostname` resolving to `address`; undefined when it does not. */
export function judgeAddress(hostname: string, address: string, policy: PrivateCallbacks): string | undefined {
  const range = refusedRange(policy, classifyAddress(address));
  return range && `${hostname} resolves to ${address}, in ${range}`;
}

function embeddedIpv4(ip: string): string | undefined {
  const h = hextets(ip);
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  if (h.slice(0, 5).every((x) => x === 0) && h[5] === 0xffff) return v4(h[6]!, h[7]!);
  if (h[0] === 0x64 && h[1] === 0xff9b && h.slice(2, 6).every((x) => x === 0)) return v4(h[6]!, h[7]!);
  if (h[0] === 0x2002) return v4(h[1]!, h[2]!);
  return undefined;
}

/** The eight 16-bit groups of a valid IPv6 address (`isIP` checked it), `::` and a dotted tail expanded. */
function hextets(ip: string): number[] {
  let text = ip;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((group) => parseInt(group, 16));
}
