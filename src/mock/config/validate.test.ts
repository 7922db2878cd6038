import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, LOCAL_NETWORK_IPS } from './types.js';
import { defaultAllowedIps, validateConfig } from './validate.js';

describe('validateConfig', () => {
  it('gives the embedded default for an empty file', () => {
    expect(validateConfig({})).toEqual(DEFAULT_CONFIG);
    expect(DEFAULT_CONFIG.licenses).toEqual([{ licenseId: '1234', apiKey: '5678', credits: 100, allowedIps: ['127.0.0.1', '::1'], maxConcurrent: 2 }]);
  });

  it("accepts the issue's example and fills the rest with defaults", () => {
    const config = validateConfig({
      licenses: [{ licenseId: '1234', apiKey: '5678', credits: 100, allowedIps: ['127.0.0.1', '::1', '10.0.0.0/8'], maxConcurrent: 2 }],
      processing: { delayMs: 0 },
    });
    expect(config.licenses[0]!.allowedIps).toContain('10.0.0.0/8');
    expect(config.limits).toEqual(DEFAULT_CONFIG.limits);
  });

  it('fills a license from defaults except its id and key', () => {
    const config = validateConfig({ licenses: [{ licenseId: 'a', apiKey: 'b' }] });
    expect(config.licenses[0]).toEqual({ licenseId: 'a', apiKey: 'b', credits: 100, allowedIps: ['127.0.0.1', '::1'], maxConcurrent: 2 });
  });

  it('gives a license without allowedIps the default allowlist it is given: loopback, or the local network beyond it', () => {
    expect(defaultAllowedIps('127.0.0.1')).toEqual(['127.0.0.1', '::1']);
    expect(defaultAllowedIps('localhost')).toEqual(['127.0.0.1', '::1']);
    expect(defaultAllowedIps('::1')).toEqual(['127.0.0.1', '::1']);
    expect(defaultAllowedIps('0.0.0.0')).toEqual(['127.0.0.1', '::1', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']);
    expect(defaultAllowedIps('::')).toEqual(LOCAL_NETWORK_IPS);
    const beyond = { defaultAllowedIps: LOCAL_NETWORK_IPS };
    expect(validateConfig({}, beyond).licenses[0]!.allowedIps).toEqual(LOCAL_NETWORK_IPS);
    expect(validateConfig({ licenses: [{ licenseId: 'a', apiKey: 'b' }] }, beyond).licenses[0]!.allowedIps).toEqual(LOCAL_NETWORK_IPS);
    // A license that names its allowlist keeps it, wherever the mock listens.
    expect(validateConfig({ licenses: [{ licenseId: 'a', apiKey: 'b', allowedIps: ['203.0.113.7'] }] }, beyond).licenses[0]!.allowedIps).toEqual([
      '203.0.113.7',
    ]);
    // The default is never shared: changing one config's list leaves the next one alone.
    validateConfig({}, beyond).licenses[0]!.allowedIps.push('198.51.100.1');
    expect(validateConfig({}, beyond).licenses[0]!.allowedIps).toEqual(LOCAL_NETWORK_IPS);
  });

  it.each([
    [{ licenses: [{ licenseId: '1', apiKey: 'k', credits: -1 }] }, 'config.licenses[0].credits: expected an integer from 0'],
    [{ licenses: [{ licenseId: 1234, apiKey: 'k' }] }, 'config.licenses[0].licenseId: expected a non-empty string, got number 1234'],
    [{ licenses: [{ licenseId: '1', apiKey: 'k', allowedIps: ['localhost'] }] }, 'config.licenses[0].allowedIps[0]: expected an IP address or CIDR block'],
    [
      {
        licenses: [
          { licenseId: '1', apiKey: 'a' },
          { licenseId: '1', apiKey: 'b' },
        ],
      },
      'config.licenses[1].licenseId: expected a licenseId not used by another license',
    ],
    [{ processing: { delayMS: 5 } }, 'config.processing.delayMS: expected one of the known keys (delayMs, msPerMegapixel'],
    [{ rules: { errorBody: 'xml' } }, 'config.rules.errorBody: expected one of "json", "text", "none"'],
    [{ dashboard: { keepImagesFrom: 'later' } }, 'config.dashboard.keepImagesFrom: expected one of "start", "opened"'],
    [{ rules: { checkOrder: ['auth'] } }, 'config.rules.checkOrder: expected each of ip-allowlist'],
    [{ network: { trustedProxies: '127.0.0.1' } }, 'config.network.trustedProxies: expected an array'],
    [{ licences: [] }, 'config.licences: expected one of the known keys'],
    [[], 'config: expected an object, got an array of 0'],
    [{ licenses: [{ licenseId: { id: 'x' }, apiKey: 'k' }] }, 'config.licenses[0].licenseId: expected a non-empty string, got object {"id":"x"}'],
  ])('refuses %j naming the field', (input, message) => {
    expect(() => validateConfig(input)).toThrow(message);
  });
});
