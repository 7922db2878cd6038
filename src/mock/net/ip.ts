import { BlockList, isIP } from 'node:net';

/** An address the way the mock compares it: IPv4-mapped IPv6 (`::ffff:1.2.3.4`) becomes `1.2.3.4`. */
export function normaliseIp(address: string): string {
  const trimmed = address.trim().replace(/^\[(.*)\]$/, '$1');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(trimmed);
  return mapped?.[1] ?? trimmed.toLowerCase();
}

/**
 * Why an allowlist entry is not valid, or undefined when it is. Entries are an IPv4 or IPv6
 * address, or a CIDR block of either (`10.0.0.0/8`, `fd00::/8`).
 */
export function ipEntryProblem(entry: string): string | undefined {
  const [address = '', prefix, extra] = entry.split('/');
  const family = isIP(normaliseIp(address));
  if (family === 0 || extra !== undefined) return `"${entry}" is not an IP address or CIDR block (examples: "127.0.0.1", "::1", "10.0.0.0/8")`;
  if (prefix === undefined) return undefined;
  const bits = Number(prefix);
  const max = family === 4 ? 32 : 128;
  if (!/^\d+$/.test(prefix) || bits > max) return `"${entry}" has prefix length "${prefix}"; expected 0 to ${max}`;
  return undefined;
}

/** A set of addresses and CIDR blocks, IPv4 and IPv6, built once and asked many times. */
export interface IpMatcher {
  has(address: string): boolean;
}

/**
 * Builds a matcher from entries already checked with {@link ipEntryProblem}.
 *
 * @example
 * ```ts
 * ipMatcher(['127.0.0.1', '10.0.0.0/8']).has('::ffff:10.1.2.3'); // true
 * ```
 */
export function ipMatcher(entries: readonly string[]): IpMatcher {
  // Licenses are asked on every request: the same list gets the same matcher.
  const key = entries.join(',');
  const known = matchers.get(key);
  if (known) return known;
  const list = new BlockList();
  // Plain IPv4 addresses are also kept as strings: the usual allowlist answers without BlockList.
  const exact = new Set<string>();
  let subnets = false;
  for (const entry of entries) {
    const [rawAddress = '', prefix] = entry.split('/');
    const address = normaliseIp(rawAddress);
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
    if (prefix === undefined && type === 'ipv4') exact.add(address);
    else subnets = true;
  }
  const matcher: IpMatcher = {
    has(candidate) {
      const address = normaliseIp(candidate);
      if (exact.has(address)) return true;
      const family = isIP(address);
      if (family === 0 || (!subnets && family === 4)) return false;
      return list.check(address, family === 6 ? 'ipv6' : 'ipv4');
    },
  };
  if (matchers.size >= 1000) matchers.delete(matchers.keys().next().value!);
  matchers.set(key, matcher);
  return matcher;
}

const matchers = new Map<string, IpMatcher>();

/**
 * The client's address: the socket's peer, or, when that peer is a trusted proxy, the
 * right-most `X-Forwarded-For` entry that is not itself a trusted proxy. An untrusted peer's
 * `X-Forwarded-For` is ignored, since anyone can send the header.
 *
 * @example
 * ```ts
 * clientAddress('10.0.0.5', '203.0.113.9, 10.0.0.7', ipMatcher(['10.0.0.0/8'])); // '203.0.113.9'
 * ```
 */
export function clientAddress(peer: string, forwardedFor: string | undefined, trustedProxies: IpMatcher): string {
  let address = normaliseIp(peer);
  if (!forwardedFor || !trustedProxies.has(address)) return address;
  const hops = forwardedFor
    .split(',')
    .map((hop) => normaliseIp(hop))
    .filter((hop) => hop !== '');
  while (trustedProxies.has(address)) {
    const next = hops.pop();
    if (next === undefined || isIP(next) === 0) return address;
    address = next;
  }
  return address;
}

const LOOPBACK = ipMatcher(['127.0.0.0/8', '::1']);

/**
 * True for a host name or address that only this machine can reach.
 *
 * @example
 * ```ts
 * isLoopbackHost('127.0.0.1'); // true
 * isLoopbackHost('0.0.0.0'); // false: every address of the machine
 * ```
 */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || LOOPBACK.has(host);
}

/**
 * A host as it stands in a URL or after `host:port`: IPv6 addresses in brackets.
 *
 * @example
 * ```ts
 * `http://${urlHost('::1')}:8080`; // 'http://[::1]:8080'
 * ```
 */
export function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
