import { randomBytes } from 'node:crypto';
import { DEFAULT_CONFIG, MockAdminClient, startMockServer, type RunningMockServer } from '../mock/index.js';
import type { Credentials, Target } from './context.js';

export interface TargetOptions {
  /** `mock` for an in-process beia mock, or the image endpoint's URL. */
  target: string;
  licenseId?: string;
  apiKey?: string;
  zeroCreditLicense?: Credentials;
  unlistedSourceAddress?: string;
  /** The URL target is a beia mock whose admin API (at its origin, /__admin) the suite may use. */
  admin?: boolean;
  adminToken?: string;
  /**
   * Only plan: with `admin`, count on the zero-credit license the suite would create, without
   * creating it (`--dry-run` changes nothing).
   */
  planOnly?: boolean;
}

const ZERO_CREDIT_LICENSE_ID = 'conformance-zero-credits';

export interface OpenTarget {
  target: Target;
  close: () => Promise<void>;
}

/**
 * The target of a run. `mock` starts a beia mock in this process on a free loopback port, with
 * everything the cases need: its admin API, a license without credits, and 127.0.0.2 as an
 * address that is not on the allowlist. A URL with `admin` is a beia mock elsewhere (a container,
 * a staging mock): without a zero-credit license given, the suite makes one through its admin API.
 */
export async function openTarget(options: TargetOptions): Promise<OpenTarget> {
  if (options.target === 'mock') return openMock(options);
  let url: URL;
  try {
    url = new URL(options.target);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
  } catch {
    const shown = options.target.replace(/\/\/[^/@]*@/, '//');
    throw new Error(`--target is "${shown}"; expected "mock" or the image endpoint's URL, e.g. https://aws.beiatechnology.com/beia-api/v1/image.`);
  }
  if (!options.licenseId || !options.apiKey)
    throw new Error('A URL target needs credentials: --license-id and --api-key (or BEIA_LICENSE_ID and BEIA_API_KEY).');
  const target: Target = { endpoint: url.toString(), kind: 'url', credentials: { licenseId: options.licenseId, apiKey: options.apiKey } };
  if (options.zeroCreditLicense) target.zeroCreditLicense = options.zeroCreditLicense;
  if (options.unlistedSourceAddress) target.unlistedSourceAddress = options.unlistedSourceAddress;
  if (options.admin) {
    const admin = new MockAdminClient(url.origin, options.adminToken ? { token: options.adminToken } : {});
    target.admin = admin;
    target.zeroCreditLicense ??= options.planOnly
      ? { licenseId: ZERO_CREDIT_LICENSE_ID, apiKey: '(made at the start of the run)' }
      : await createZeroCreditLicense(admin, target.credentials.licenseId);
  }
  return { target, close: async () => {} };
}

async function openMock(options: TargetOptions): Promise<OpenTarget> {
  const mock: RunningMockServer = await startMockServer({ port: 0, config: DEFAULT_CONFIG });
  const admin = new MockAdminClient(mock.url);
  const license = DEFAULT_CONFIG.licenses[0]!;
  const credentials = { licenseId: options.licenseId ?? license.licenseId, apiKey: options.apiKey ?? license.apiKey };
  const target: Target = {
    endpoint: mock.endpoint,
    kind: 'mock',
    credentials,
    zeroCreditLicense: options.zeroCreditLicense ?? (await createZeroCreditLicense(admin, credentials.licenseId)),
    unlistedSourceAddress: options.unlistedSourceAddress ?? '127.0.0.2',
    admin,
  };
  return { target, close: () => mock.close() };
}

/** A license without credits, callable from wherever the run's license is, for the 402 cases. */
async function createZeroCreditLicense(admin: MockAdminClient, runLicenseId: string): Promise<Credentials> {
  let allowedIps: string[];
  try {
    ({ allowedIps } = await admin.license(runLicenseId));
  } catch (error) {
    throw new Error(`Failed to prepare the 402 cases through the admin API: ${(error as Error).message}`, { cause: error });
  }
  const zero: Credentials = { licenseId: ZERO_CREDIT_LICENSE_ID, apiKey: `conformance-${randomBytes(9).toString('base64url')}` };
  await admin.putLicense({ ...zero, credits: 0, allowedIps });
  return zero;
}
