import type { Dispatcher } from 'undici';
import { describeRoute, networkDispatcher, type NetworkOptions } from '../client/index.js';
import { MockAdminClient } from '../mock/light.js';
import type { RunningMockServer } from '../mock/index.js';
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
  /** How requests reach a URL target: a proxy, more trusted CAs, the source address (`beia conformance --proxy/--ca-file/--source-address`). */
  network?: Pick<NetworkOptions, 'proxy' | 'ca' | 'sourceAddress'>;
}

export interface OpenTarget {
  target: Target;
  close: () => Promise<void>;
}

/**
 * The target of a run; nothing is sent yet. `mock` starts a beia mock in this process on a free
 * loopback port, with everything the cases need: its admin API, a license without credits (made
 * by the run), and 127.0.0.2 as an address that is not on the allowlist. A URL with `admin` is a
 * beia mock elsewhere (a container, a staging mock): without a zero-credit license given, the run
 * makes one through its admin API (`POST /__admin/licenses`, a fresh id and a short TTL, so two
 * runs on one mock never share it) and deletes it at its end.
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
  const network = options.network ?? {};
  const agents = new Map<string, Dispatcher>();
  if (network.proxy !== undefined || network.ca !== undefined || network.sourceAddress !== undefined) {
    // One dispatcher per source address: the run's own (--source-address), or the D8 case's unlisted one.
    target.dispatcher = (localAddress) => {
      const key = localAddress ?? '';
      let agent = agents.get(key);
      if (!agent) {
        const sourceAddress = localAddress ?? network.sourceAddress;
        agent = networkDispatcher({ ...network, ...(sourceAddress !== undefined ? { sourceAddress } : {}) })!;
        agents.set(key, agent);
      }
      return agent;
    };
    const route = describeRoute(target.endpoint, network.proxy);
    if (route !== 'direct') target.proxy = route.replace(/^through the proxy /, '');
  }
  if (options.admin) {
    const dispatcher = target.dispatcher?.();
    target.admin = new MockAdminClient(url.origin, { ...(options.adminToken ? { token: options.adminToken } : {}), ...(dispatcher ? { dispatcher } : {}) });
    if (!options.zeroCreditLicense) target.makeZeroCreditLicense = true;
  }
  return { target, close: async () => void (await Promise.all([...agents.values()].map((agent) => agent.close()))) };
}

async function openMock(options: TargetOptions): Promise<OpenTarget> {
  // Loaded only for --target mock: a run against a URL needs neither sharp nor the mock's server.
  const { DEFAULT_CONFIG, startMockServer } = await import('../mock/index.js');
  const mock: RunningMockServer = await startMockServer({ port: 0, config: DEFAULT_CONFIG });
  const license = DEFAULT_CONFIG.licenses[0]!;
  const target: Target = {
    endpoint: mock.endpoint,
    kind: 'mock',
    credentials: { licenseId: options.licenseId ?? license.licenseId, apiKey: options.apiKey ?? license.apiKey },
    unlistedSourceAddress: options.unlistedSourceAddress ?? '127.0.0.2',
    admin: new MockAdminClient(mock.url),
  };
  if (options.zeroCreditLicense) target.zeroCreditLicense = options.zeroCreditLicense;
  else target.makeZeroCreditLicense = true;
  return { target, close: () => mock.close() };
}
