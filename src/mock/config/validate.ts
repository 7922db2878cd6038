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
  const given = readSections(root, path);
  const at = (name: string) => (key: string) => `${path}.${name}.${key}`;
  const config: MockConfig = {
    licenses,
    processing: readProcessing(given.processing, at('processing')),
    limits: readLimits(given.limits, at('limits')),
    images: readImages(given.images, at('images')),
    dashboard: {
      keepImages: readInt(given.dashboard.keepImages, at('dashboard')('keepImages'), 0, 10_000),
      imageBytes: readInt(given.dashboard.imageBytes, at('dashboard')('imageBytes'), 0, 2 ** 40),
      keepImagesFrom: readEnum(given.dashboard.keepImagesFrom, at('dashboard')('keepImagesFrom'), ['start', 'opened']),
    },
    network: {
      trustedProxies: readIpList(given.network.trustedProxies, at('network')('trustedProxies')),
    },
    rules: readRules(given.rules, at('rules')),
    journal: {
      maxEntries: readInt(given.journal.maxEntries, at('journal')('maxEntries'), 0, 1_000_000),
      maxBytes: readInt(given.journal.maxBytes, at('journal')('maxBytes'), 0, 2 ** 40),
    },
    admin: readAdmin(given.admin, at('admin')),
    faults: { maxHangMs: readInt(given.faults.maxHangMs, at('faults')('maxHangMs'), 0, DAY_MS) },
    store: readStore(given.store, at('store')),
  };
  checkUploadFitsClientShare(config.limits, at('limits'));
  return config;
}

/** Each section of the file merged over its defaults, its keys checked, in this order. */
function readSections(root: Json, path: string) {
  const d = DEFAULT_CONFIG;
  return {
    processing: section(root, path, 'processing', d.processing),
    limits: section(root, path, 'limits', d.limits),
    images: section(root, path, 'images', d.images),
    dashboard: section(root, path, 'dashboard', d.dashboard),
    network: section(root, path, 'network', d.network),
    rules: section(root, path, 'rules', d.rules),
    journal: section(root, path, 'journal', d.journal),
    admin: section(root, path, 'admin', d.admin),
    faults: section(root, path, 'faults', d.faults),
    store: section(root, path, 'store', d.store),
  };
}

/** The path of a key of one section, e.g. `config.limits.maxParts`. */
type KeyPath = (key: string) => string;

function readProcessing(processing: Json, at: KeyPath): MockConfig['processing'] {
  return {
    delayMs: readInt(processing.delayMs, at('delayMs'), 0, DAY_MS),
    msPerMegapixel: readInt(processing.msPerMegapixel, at('msPerMegapixel'), 0, DAY_MS),
    jitterMs: readInt(processing.jitterMs, at('jitterMs'), 0, DAY_MS),
    maxConcurrent: readInt(processing.maxConcurrent, at('maxConcurrent'), 1, 100_000),
    retryAfterSeconds: readInt(processing.retryAfterSeconds, at('retryAfterSeconds'), 0, 86_400),
  };
}

function readLimits(limits: Json, at: KeyPath): MockConfig['limits'] {
  return {
    maxUploadBytes: readInt(limits.maxUploadBytes, at('maxUploadBytes'), 1, 2 ** 31),
    maxFieldBytes: readInt(limits.maxFieldBytes, at('maxFieldBytes'), 16, 1024 * 1024),
    maxParts: readInt(limits.maxParts, at('maxParts'), 3, 1000),
    maxInputPixels: readInt(limits.maxInputPixels, at('maxInputPixels'), 1, 2 ** 32),
    requestTimeoutMs: readInt(limits.requestTimeoutMs, at('requestTimeoutMs'), 100, DAY_MS),
    minBytesPerSecond: readInt(limits.minBytesPerSecond, at('minBytesPerSecond'), 0, 2 ** 31),
    minRateWindowMs: readInt(limits.minRateWindowMs, at('minRateWindowMs'), 100, DAY_MS),
    maxBufferedBytes: readInt(limits.maxBufferedBytes, at('maxBufferedBytes'), 1, 2 ** 40),
    maxConcurrentUploads: readInt(limits.maxConcurrentUploads, at('maxConcurrentUploads'), 1, 100_000),
    maxClientShare: readNumber(limits.maxClientShare, at('maxClientShare'), 0.001, 1),
  };
}

function readImages(images: Json, at: KeyPath): MockConfig['images'] {
  return {
    maxSide: readInt(images.maxSide, at('maxSide'), 16, 16_384),
    cacheBytes: readInt(images.cacheBytes, at('cacheBytes'), 0, 2 ** 40),
    formats: readFormats(images.formats, at('formats')),
    renderTimeoutSeconds: readInt(images.renderTimeoutSeconds, at('renderTimeoutSeconds'), 0, 3600),
  };
}

function readRules(rules: Json, at: KeyPath): MockConfig['rules'] {
  return {
    checkOrder: readCheckOrder(rules.checkOrder, at('checkOrder')),
    requireLicenseHeader: readBoolean(rules.requireLicenseHeader, at('requireLicenseHeader')),
    creditsRemainingOnErrors: readCreditsStatuses(rules.creditsRemainingOnErrors, at('creditsRemainingOnErrors')),
    strictBooleans: readBoolean(rules.strictBooleans, at('strictBooleans')),
    lenientBooleans: readBoolean(rules.lenientBooleans, at('lenientBooleans')),
    unknownLicenseStatus: readUnknownLicenseStatus(rules.unknownLicenseStatus, at('unknownLicenseStatus')),
    partLabels: readEnum(rules.partLabels, at('partLabels'), ['content-disposition', 'content-id', 'both'] as const),
    creditsPartFormat: readEnum(rules.creditsPartFormat, at('creditsPartFormat'), ['text', 'json'] as const),
    errorBody: readEnum(rules.errorBody, at('errorBody'), ['json', 'text', 'none'] as const),
    scenarioHeader: readBoolean(rules.scenarioHeader, at('scenarioHeader')),
  };
}

function readAdmin(admin: Json, at: KeyPath): MockConfig['admin'] {
  return {
    allowedHosts: readArray(admin.allowedHosts, at('allowedHosts'), readHostName),
    maxBodyBytes: readInt(admin.maxBodyBytes, at('maxBodyBytes'), 1024, 2 ** 31),
    maxLicenses: readInt(admin.maxLicenses, at('maxLicenses'), 1, 10_000_000),
  };
}

function readStore(store: Json, at: KeyPath): MockConfig['store'] {
  return {
    prefix: readPrefix(store.prefix, at('prefix')),
    slotLeaseMs: readInt(store.slotLeaseMs, at('slotLeaseMs'), 200, DAY_MS),
    onStateLost: readEnum(store.onStateLost, at('onStateLost'), ['reseed', 'degraded'] as const),
  };
}

/** The largest upload must fit in one client's share of the upload memory. */
function checkUploadFitsClientShare(limits: MockConfig['limits'], at: KeyPath): void {
  const clientBytes = Math.floor(limits.maxBufferedBytes * limits.maxClientShare);
  if (limits.maxUploadBytes > clientBytes) {
    throw new ConfigError(
      at('maxUploadBytes'),
      `at most limits.maxBufferedBytes x limits.maxClientShare (${clientBytes}), so that the largest upload fits in one client's share; raise those or lower this`,
      limits.maxUploadBytes,
    );
  }
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
