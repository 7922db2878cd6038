import { describe, expect, it } from 'vitest';
import { clientAddress, ipEntryProblem, ipMatcher, normaliseIp } from './ip.js';

describe('ipMatcher', () => {
  it('matches IPv4 and IPv6 addresses and CIDR blocks', () => {
    const allow = ipMatcher(['127.0.0.1', '::1', '10.0.0.0/8', 'fd00::/8']);
    expect(allow.has('127.0.0.1')).toBe(true);
    expect(allow.has('127.0.0.2')).toBe(false);
    expect(allow.has('::1')).toBe(true);
    expect(allow.has('10.200.3.4')).toBe(true);
    expect(allow.has('11.0.0.1')).toBe(false);
    expect(allow.has('fd12:3456::1')).toBe(true);
    expect(allow.has('fe80::1')).toBe(false);
  });

  it('treats an IPv4-mapped IPv6 peer as its IPv4 address', () => {
    expect(normaliseIp('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(ipMatcher(['127.0.0.1']).has('::ffff:127.0.0.1')).toBe(true);
  });

  it('never matches something that is not an address', () => {
    expect(ipMatcher(['0.0.0.0/0']).has('not-an-ip')).toBe(false);
  });
});

describe('ipEntryProblem', () => {
  it('accepts addresses and blocks, and says what is wrong with the rest', () => {
    expect(ipEntryProblem('192.168.1.0/24')).toBeUndefined();
    expect(ipEntryProblem('::1')).toBeUndefined();
    expect(ipEntryProblem('localhost')).toMatch(/not an IP address or CIDR block/);
    expect(ipEntryProblem('10.0.0.0/33')).toMatch(/expected 0 to 32/);
    expect(ipEntryProblem('::/129')).toMatch(/expected 0 to 128/);
  });
});

describe('clientAddress', () => {
  const proxies = ipMatcher(['127.0.0.1', '10.0.0.0/8']);

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    expect(clientAddress('192.0.2.10', '198.51.100.7', proxies)).toBe('192.0.2.10');
    expect(clientAddress('192.0.2.10', '198.51.100.7', ipMatcher([]))).toBe('192.0.2.10');
  });

  it('takes the right-most untrusted hop behind trusted proxies', () => {
    expect(clientAddress('127.0.0.1', '198.51.100.7', proxies)).toBe('198.51.100.7');
    expect(clientAddress('127.0.0.1', '6.6.6.6, 198.51.100.7, 10.1.1.1', proxies)).toBe('198.51.100.7');
  });

  it('keeps the proxy when the header is empty or garbage', () => {
    expect(clientAddress('127.0.0.1', '', proxies)).toBe('127.0.0.1');
    expect(clientAddress('127.0.0.1', 'unknown', proxies)).toBe('127.0.0.1');
  });
});

describe('ipMatcher, asked again', () => {
  it('gives the same answers for the same list, exact addresses and blocks alike', () => {
    for (let round = 0; round < 2; round++) {
      const exactOnly = ipMatcher(['127.0.0.1', '10.1.2.3']);
      expect(exactOnly.has('10.1.2.3')).toBe(true);
      expect(exactOnly.has('::ffff:127.0.0.1')).toBe(true);
      expect(exactOnly.has('10.1.2.4')).toBe(false);
      expect(exactOnly.has('::1')).toBe(false);
      expect(exactOnly.has('not an address')).toBe(false);
      const mixed = ipMatcher(['127.0.0.1', '192.168.0.0/16', '::1']);
      expect(mixed.has('192.168.44.5')).toBe(true);
      expect(mixed.has('::1')).toBe(true);
      expect(mixed.has('192.169.0.1')).toBe(false);
    }
  });
});
