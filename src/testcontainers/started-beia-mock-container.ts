import { AbstractStartedContainer, type StartedNetwork, type StartedTestContainer } from 'testcontainers';
import { BeiaClient, type BeiaClientOptions } from '../client/index.js';
import { IMAGE_PATH } from '../contract/index.js';
import {
  MockAdminClient,
  type CallCount,
  type CallPattern,
  type CreatedLicense,
  type CreateLicenseOptions,
  type LicenseConfig,
  type MockConfig,
  type VerifyResult,
} from '../mock/light.js';

/**
 * A running {@link BeiaMockContainer}: where to call it, its admin API, and a client for it.
 *
 * @example
 * ```ts
 * const mock = await new BeiaMockContainer().start();
 * mock.getEndpoint();                              // http://localhost:32768/beia-api/v1/image
 * await mock.admin.setCredits('1234', 0);          // the next request is a 402
 * await mock.client().process(jpegBytes);          // throws NoCreditsError
 * ```
 */
export class StartedBeiaMockContainer extends AbstractStartedContainer {
  /** The mock's admin API: licenses and credits, the journal, faults, reset. */
  readonly admin: MockAdminClient;
  readonly #url: string;
  readonly #adminToken: string;
  readonly #config: MockConfig;
  #network: StartedNetwork | undefined;

  /** `network`: one made for this container alone (an engine without a bridge network), removed after it. */
  constructor(started: StartedTestContainer, options: { url: string; adminToken: string; config: MockConfig; network?: StartedNetwork }) {
    super(started);
    this.#url = options.url;
    this.#adminToken = options.adminToken;
    this.#config = options.config;
    this.#network = options.network;
    this.admin = new MockAdminClient(options.url, { token: options.adminToken });
  }

  protected override async containerStopped(): Promise<void> {
    const network = this.#network;
    this.#network = undefined;
    await network?.stop();
  }

  /** The image endpoint, e.g. `http://localhost:32768/beia-api/v1/image`: what a client calls. */
  getEndpoint(): string {
    return `${this.#url}${IMAGE_PATH}`;
  }

  /** The mock's base URL, e.g. `http://localhost:32768`. */
  getUrl(): string {
    return this.#url;
  }

  /** The admin API's base URL; every call but `/health` needs {@link getAdminToken}. */
  getAdminUrl(): string {
    return `${this.#url}/__admin`;
  }

  getAdminToken(): string {
    return this.#adminToken;
  }

  /** The licenses the mock started with, keys included (the admin API masks them). */
  getLicenses(): LicenseConfig[] {
    return this.#config.licenses.map((license) => ({ ...license, allowedIps: [...license.allowedIps] }));
  }

  /**
   * A license of its own for one test (`POST /__admin/licenses`): parallel tests that each take
   * one never share credits or journal entries. It goes away after `ttlSeconds` (an hour).
   *
   * @example
   * ```ts
   * const { licenseId, apiKey } = await mock.createLicense({ credits: 3 });
   * const client = mock.client({ licenseId, apiKey });
   * ```
   */
  createLicense(options: CreateLicenseOptions = {}): Promise<CreatedLicense> {
    return this.admin.createLicense(options);
  }

  /**
   * Asserts the number of requests the mock saw that match `pattern` (`POST /__admin/verify`);
   * throws a `MockVerificationError` that prints the nearest misses when it is wrong.
   *
   * @example
   * ```ts
   * await mock.verify({ licenseId, status: 200 }, { exactly: 2 });
   * ```
   */
  verify(pattern: CallPattern, count: CallCount): Promise<VerifyResult> {
    return this.admin.verify(pattern, count);
  }

  /**
   * A reference client pointed at this mock, with the first license's credentials unless the
   * options name others.
   */
  client(options: Partial<BeiaClientOptions> = {}): BeiaClient {
    const first = this.#config.licenses[0];
    const licenseId = options.licenseId ?? first?.licenseId;
    const apiKey = options.apiKey ?? this.#config.licenses.find((l) => l.licenseId === licenseId)?.apiKey;
    if (!licenseId || !apiKey) {
      throw new TypeError(`client(): no API key known for license "${licenseId}"; pass licenseId and apiKey, or add the license with withLicense().`);
    }
    return new BeiaClient({ ...options, endpoint: this.getEndpoint(), licenseId, apiKey });
  }
}
