import { ipEntryProblem, isLoopbackHost } from '../net/ip.js';
import { ConfigError, readArray, readBoolean, readEnum, readInt, readNumber, readObject, readString, type Json } from './reader.js';
import {
  CHECK_NAMES,
  CREDITS_STATUSES,
  DEFAULT_CONFIG,
  DEFAULT_LICENSE,
  IMAGE_FORMATS,
  LOCAL_NETWORK_IPS,
  LOOPBACK_IPS,
  type CheckName,
  type CreditsStatus,
  type ImageFormat,
  type LicenseConfig,
  type MockConfig,
} from './types.js';

const DAY_MS = 86_400_000;

export interface ValidateOptions {
  /** Where the config came from, for messages: `config` by default. */
  path?: string;
  /** The allowlist of a license that names none (see {@link defaultAllowedIps}); loopback by default. */
  defaultAllowedIps?: readonly string[];
}

/**
 * The allowlist of a license that names no `allowedIps`: loopback when the mock listens on
 * loopback; loopback and the private ranges when it listens beyond (see `LOCAL_NETWORK_IPS`).
 *
 * @example
 * ```ts
 * validateConfig({}, { defaultAllowedIps: defaultAllowedIps('0.0.0.0') }).licenses[0].allowedIps;
 * // ['127.0.0.1', '::1', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']
 * ```
 */
export function defaultAllowedIps(host: string): readonly string[] {
  return isLoopbackHost(host) ? LOOPBACK_IPS : LOCAL_NETWORK_IPS;
}

/**
 * Validates a parsed config file and fills in the defaults. Every section and every key is
 * optional; a key that is unknown or a value of the wrong kind is refused with a
 * {@link ConfigError} that names the path, e.g. `config.licenses[0].credits: expected an
 * integer from 0 to ..., got number -1`.
 *
 * @example
 * ```ts
 * const config = validateConfig({ processing: { delayMs: 200 } });
 * config.licenses[0].licenseId; // '1234', the default license
 * ```
 */
export function validateConfig(input: unknown, options: ValidateOptions = {}): MockConfig {
  const path = options.path ?? 'config';
  const allowedIps = options.defaultAllowedIps ?? DEFAULT_LICENSE.allowedIps;
  const root = readObject(input ?? {}, path, [
    '$schema',
    'licenses',
    'processing',
    'limits',
    'images',
    'dashboard',
    'network',
    'rules',
    'journal',
    'admin',
    'faults',
    'store',
  ]);
  const d = DEFAULT_CONFIG;
  const licenses =
    root.licenses === undefined ? d.licenses.map((l) => ({ ...l, allowedIps: [...allowedIps] })) : readLicenses(root.licenses, `${path}.licenses`, allowedIps);

  const processing = section(root, path, 'processing', d.processing);
  const limits = section(root, path, 'limits', d.limits);
  const images = section(root, path, 'images', d.images);
  const dashboard = section(root, path, 'dashboard', d.dashboard);
  const network = section(root, path, 'network', d.network);
  const rules = section(root, path, 'rules', d.rules);
  const journal = section(root, path, 'journal', d.journal);
  const admin = section(root, path, 'admin', d.admin);
  const faults = section(root, path, 'faults', d.faults);
  const store = section(root, path, 'store', d.store);
  const at = (name: string, key: string) => `${path}.${name}.${key}`;

  const config: MockConfig = {
    licenses,
    processing: {
      delayMs: readInt(processing.delayMs, at('processing', 'delayMs'), 0, DAY_MS),
      msPerMegapixel: readInt(processing.msPerMegapixel, at('processing', 'msPerMegapixel'), 0, DAY_MS),
      jitterMs: readInt(processing.jitterMs, at('processing', 'jitterMs'), 0, DAY_MS),
      maxConcurrent: readInt(processing.maxConcurrent, at('processing', 'maxConcurrent'), 1, 100_000),
      retryAfterSeconds: readInt(processing.retryAfterSeconds, at('processing', 'retryAfterSeconds'), 0, 86_400),
    },
    limits: {
      maxUploadBytes: readInt(limits.maxUploadBytes, at('limits', 'maxUploadBytes'), 1, 2 ** 31),
      maxFieldBytes: readInt(limits.maxFieldBytes, at('limits', 'maxFieldBytes'), 16, 1024 * 1024),
      maxParts: readInt(limits.maxParts, at('limits', 'maxParts'), 3, 1000),
      maxInputPixels: readInt(limits.maxInputPixels, at('limits', 'maxInputPixels'), 1, 2 ** 32),
      requestTimeoutMs: readInt(limits.requestTimeoutMs, at('limits', 'requestTimeoutMs'), 100, DAY_MS),
      minBytesPerSecond: readInt(limits.minBytesPerSecond, at('limits', 'minBytesPerSecond'), 0, 2 ** 31),
      minRateWindowMs: readInt(limits.minRateWindowMs, at('limits', 'minRateWindowMs'), 100, DAY_MS),
      maxBufferedBytes: readInt(limits.maxBufferedBytes, at('limits', 'maxBufferedBytes'), 1, 2 ** 40),
      maxConcurrentUploads: readInt(limits.maxConcurrentUploads, at('limits', 'maxConcurrentUploads'), 1, 100_000),
      maxClientShare: readNumber(limits.maxClientShare, at('limits', 'maxClientShare'), 0.001, 1),
    },
    images: {
      maxSide: readInt(images.maxSide, at('images', 'maxSide'), 16, 16_384),
      cacheBytes: readInt(images.cacheBytes, at('images', 'cacheBytes'), 0, 2 ** 40),
      formats: readFormats(images.formats, at('images', 'formats')),
      renderTimeoutSeconds: readInt(images.renderTimeoutSeconds, at('images', 'renderTimeoutSeconds'), 0, 3600),
    },
    dashboard: {
      keepImages: readInt(dashboard.keepImages, at('dashboard', 'keepImages'), 0, 10_000),
      imageBytes: readInt(dashboard.imageBytes, at('dashboard', 'imageBytes'), 0, 2 ** 40),
    },
    network: {
      trustedProxies: readIpList(network.trustedProxies, at('network', 'trustedProxies')),
    },
    rules: {
      checkOrder: readCheckOrder(rules.checkOrder, at('rules', 'checkOrder')),
      requireLicenseHeader: readBoolean(rules.requireLicenseHeader, at('rules', 'requireLicenseHeader')),
      creditsRemainingOnErrors: readCreditsStatuses(rules.creditsRemainingOnErrors, at('rules', 'creditsRemainingOnErrors')),
      strictBooleans: readBoolean(rules.strictBooleans, at('rules', 'strictBooleans')),
      lenientBooleans: readBoolean(rules.lenientBooleans, at('rules', 'lenientBooleans')),
      unknownLicenseStatus: readUnknownLicenseStatus(rules.unknownLicenseStatus, at('rules', 'unknownLicenseStatus')),
      partLabels: readEnum(rules.partLabels, at('rules', 'partLabels'), ['content-disposition', 'content-id', 'both'] as const),
      creditsPartFormat: readEnum(rules.creditsPartFormat, at('rules', 'creditsPartFormat'), ['text', 'json'] as const),
      errorBody: readEnum(rules.errorBody, at('rules', 'errorBody'), ['json', 'text', 'none'] as const),
      scenarioHeader: readBoolean(rules.scenarioHeader, at('rules', 'scenarioHeader')),
    },
    journal: {
      maxEntries: readInt(journal.maxEntries, at('journal', 'maxEntries'), 0, 1_000_000),
      maxBytes: readInt(journal.maxBytes, at('journal', 'maxBytes'), 0, 2 ** 40),
    },
    admin: {
      allowedHosts: readArray(admin.allowedHosts, at('admin', 'allowedHosts'), readHostName),
      maxBodyBytes: readInt(admin.maxBodyBytes, at('admin', 'maxBodyBytes'), 1024, 2 ** 31),
      maxLicenses: readInt(admin.maxLicenses, at('admin', 'maxLicenses'), 1, 10_000_000),
    },
    faults: { maxHangMs: readInt(faults.maxHangMs, at('faults', 'maxHangMs'), 0, DAY_MS) },
    store: {
      prefix: readPrefix(store.prefix, at('store', 'prefix')),
      slotLeaseMs: readInt(store.slotLeaseMs, at('store', 'slotLeaseMs'), 200, DAY_MS),
      onStateLost: readEnum(store.onStateLost, at('store', 'onStateLost'), ['reseed', 'degraded'] as const),
    },
  };
  const clientBytes = Math.floor(config.limits.maxBufferedBytes * config.limits.maxClientShare);
  if (config.limits.maxUploadBytes > clientBytes) {
    throw new ConfigError(
      at('limits', 'maxUploadBytes'),
      `at most limits.maxBufferedBytes x limits.maxClientShare (${clientBytes}), so that the largest upload fits in one client's share; raise those or lower this`,
      config.limits.maxUploadBytes,
    );
  }
  return config;
}

function readFormats(value: unknown, path: string): ImageFormat[] {
  const formats = readArray(value, path, (entry, at) => readEnum(entry, at, IMAGE_FORMATS));
  if (formats.length === 0) throw new ConfigError(path, `at least one of ${IMAGE_FORMATS.join(', ')}`, value);
  return formats;
}

/** A host name as a `Host` header names it, without the port: `mock.staging.example`, lower-cased. */
function readHostName(value: unknown, path: string): string {
  const text = readString(value, path).toLowerCase();
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(text) || text.length > 253) {
    throw new ConfigError(path, 'a host name without scheme or port, e.g. "mock.staging.example"', value);
  }
  return text;
}

function readPrefix(value: unknown, path: string): string {
  const text = readString(value, path);
  if (!/^[\w.:-]{1,64}$/.test(text)) throw new ConfigError(path, 'letters, digits, ".", ":", "_" or "-", 1 to 64 of them (e.g. "beia:staging:")', text);
  return text;
}

/** A section of the file merged over its defaults, with its keys checked against them. */
function section<T extends object>(root: Json, path: string, name: string, defaults: T): Json {
  if (root[name] === undefined) return { ...defaults } as Json;
  const given = readObject(root[name], `${path}.${name}`, Object.keys(defaults));
  return { ...defaults, ...given };
}

const LICENSE_KEYS = ['licenseId', 'apiKey', 'credits', 'allowedIps', 'maxConcurrent'];

function readLicenses(value: unknown, path: string, allowedIps: readonly string[]): LicenseConfig[] {
  const licenses = readArray(value, path, (entry, at) => readLicense(entry, at, allowedIps));
  const seen = new Set<string>();
  licenses.forEach((license, index) => {
    if (seen.has(license.licenseId)) {
      throw new ConfigError(`${path}[${index}].licenseId`, 'a licenseId not used by another license', license.licenseId);
    }
    seen.add(license.licenseId);
  });
  return licenses;
}

function readLicense(value: unknown, path: string, allowedIps: readonly string[]): LicenseConfig {
  const raw = readObject(value, path, LICENSE_KEYS);
  return {
    licenseId: readString(raw.licenseId, `${path}.licenseId`),
    apiKey: readString(raw.apiKey, `${path}.apiKey`),
    ...readLicensePatch({ ...raw, licenseId: undefined, apiKey: undefined }, path, {
      credits: DEFAULT_LICENSE.credits,
      allowedIps,
      maxConcurrent: DEFAULT_LICENSE.maxConcurrent,
    }),
  };
}

/** The changeable settings of a license (admin API `PATCH`), over the given current values. */
export function readLicensePatch(
  value: unknown,
  path: string,
  current: Pick<LicenseConfig, 'credits' | 'maxConcurrent'> & { allowedIps: readonly string[]; apiKey?: string },
): { credits: number; allowedIps: string[]; maxConcurrent: number; apiKey?: string } {
  const raw = readObject(value, path, LICENSE_KEYS);
  if (raw.licenseId !== undefined) throw new ConfigError(`${path}.licenseId`, 'nothing (a license id cannot change; PUT a new license instead)', raw.licenseId);
  const patch = {
    credits: raw.credits === undefined ? current.credits : readInt(raw.credits, `${path}.credits`, 0),
    allowedIps: raw.allowedIps === undefined ? [...current.allowedIps] : readIpList(raw.allowedIps, `${path}.allowedIps`),
    maxConcurrent: raw.maxConcurrent === undefined ? current.maxConcurrent : readInt(raw.maxConcurrent, `${path}.maxConcurrent`, 0, 100_000),
  };
  const apiKey = raw.apiKey === undefined ? current.apiKey : readString(raw.apiKey, `${path}.apiKey`);
  return apiKey === undefined ? patch : { ...patch, apiKey };
}

function readIpList(value: unknown, path: string): string[] {
  return readArray(value, path, (entry, at) => {
    const text = readString(entry, at);
    const problem = ipEntryProblem(text);
    if (problem) throw new ConfigError(at, `an IP address or CIDR block (${problem})`, text);
    return text;
  });
}

function readCheckOrder(value: unknown, path: string): CheckName[] {
  const order = readArray(value, path, (entry, at) => readEnum(entry, at, CHECK_NAMES));
  const missing = CHECK_NAMES.filter((name) => !order.includes(name));
  if (missing.length > 0 || order.length !== CHECK_NAMES.length) {
    throw new ConfigError(path, `each of ${CHECK_NAMES.join(', ')} exactly once`, value);
  }
  return order;
}

/** `true`, `false`, or a list of the statuses among 402, 415, 429 and 500 that carry the header. */
function readCreditsStatuses(value: unknown, path: string): boolean | CreditsStatus[] {
  if (typeof value === 'boolean') return value;
  const expected = `true, false, or a list of statuses among ${CREDITS_STATUSES.join(', ')} (e.g. [402, 429])`;
  if (!Array.isArray(value)) throw new ConfigError(path, expected, value);
  return value.map((status, index) => {
    if (!(CREDITS_STATUSES as readonly unknown[]).includes(status)) throw new ConfigError(`${path}[${index}]`, `one of ${CREDITS_STATUSES.join(', ')}`, status);
    return status as CreditsStatus;
  });
}

function readUnknownLicenseStatus(value: unknown, path: string): 401 | 403 {
  if (value !== 401 && value !== 403) throw new ConfigError(path, '401 or 403', value);
  return value;
}
