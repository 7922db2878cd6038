import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { GenericContainer, getContainerRuntimeClient, ImageName, Network, Wait, type StartedNetwork } from 'testcontainers';
import {
  defaultAllowedIps,
  LISTENING_LINE,
  loadConfigFile,
  MOCK_VERSION,
  parseConfigText,
  urlHost,
  type LicenseConfig,
  type MockConfig,
} from '../mock/light.js';
import { StartedBeiaMockContainer } from './started-beia-mock-container.js';

const LOCAL_IMAGE = 'beia-kit/mock';

/**
 * The image this version of beia-kit starts, built by `npm run docker:build`. Pinned here only.
 *
 * @example
 * ```ts
 * BEIA_MOCK_IMAGE; // 'beia-kit/mock:0.1.0'
 * new BeiaMockContainer(BEIA_MOCK_IMAGE.replace('beia-kit/mock', 'ghcr.io/acme/beia-kit-mock')); // your registry's copy
 * ```
 */
export const BEIA_MOCK_IMAGE = `${LOCAL_IMAGE}:${MOCK_VERSION}`;

/**
 * The port the mock listens on inside the image.
 *
 * @example
 * ```ts
 * started.getMappedPort(BEIA_MOCK_PORT); // the host port of a port-mapped container
 * ```
 */
export const BEIA_MOCK_PORT = 8080;

/**
 * A license to add: id and key, the rest from the defaults (100 credits, 2 at a time, the local
 * network).
 *
 * @example
 * ```ts
 * const license: LicenseInput = { licenseId: 'ci', apiKey: 'ci-key', credits: 5 };
 * new BeiaMockContainer().withLicense(license);
 * ```
 */
export type LicenseInput = Pick<LicenseConfig, 'licenseId' | 'apiKey'> & Partial<Omit<LicenseConfig, 'licenseId' | 'apiKey'>>;

const LOG_LINES_KEPT = 20;

/**
 * The image of testcontainers' Ryuk container, which it pulls before the first container of a
 * run unless `TESTCONTAINERS_RYUK_DISABLED=true`: `RYUK_CONTAINER_IMAGE`, else testcontainers
 * 12.0.1's default (its own `getReaperImage` is not exported; a test checks the two agree).
 */
export function ryukImage(env: NodeJS.ProcessEnv = process.env): string {
  return env.RYUK_CONTAINER_IMAGE ? ImageName.fromString(env.RYUK_CONTAINER_IMAGE).string : 'testcontainers/ryuk:0.14.0';
}

/**
 * The beia mock in a container, for integration tests: the whole BEIA contract (credits, the
 * IP allowlist, 429s, images) with an admin API to steer it and a client pointed at it.
 *
 * By default the container's port 8080 is mapped to a free port of the Docker host, as on any
 * normal Docker engine. {@link withHostNetwork} serves engines without a bridge network.
 *
 * @example
 * ```ts
 * import { BeiaMockContainer } from 'beia-kit/testcontainers';
 *
 * const mock = await new BeiaMockContainer().withLicense({ licenseId: 'ci', apiKey: 'k', credits: 5 }).start();
 * const { result, creditsRemaining } = await mock.client().process('./001.jpg'); // creditsRemaining: 4
 * await mock.admin.armFault({ type: 'error', count: 1 });                      // the next call is a 500
 * await mock.stop();
 * ```
 */
export class BeiaMockContainer extends GenericContainer {
  #config: Record<string, unknown> | string | undefined;
  readonly #licenses: LicenseInput[] = [];
  #delayMs: number | undefined;
  #adminToken: string = randomBytes(18).toString('base64url');
  #hostNetwork = false;
  #userLogConsumer: ((stream: Readable) => unknown) | undefined;
  #recordings: { dir: string; strict: boolean } | undefined;

  /**
   * @param image the image to start; {@link BEIA_MOCK_IMAGE} by default. Images named
   * `beia-kit/mock` are built locally (`npm run docker:build`) and never pulled, so no registry
   * image of that name can stand in for them. Another name (your registry's copy) is pulled when
   * missing, as testcontainers does.
   */
  constructor(image: string = BEIA_MOCK_IMAGE) {
    super(image);
    this.withWaitStrategy(Wait.forLogMessage(LISTENING_LINE)).withStartupTimeout(60_000);
  }

  /**
   * The mock's config (README, "Configuration"): an object, or the path of a JSON file on this
   * machine. It is checked before the container starts; `withLicense` and `withProcessingDelay`
   * apply on top of it.
   */
  withConfig(configOrPath: Record<string, unknown> | string): this {
    this.#config = configOrPath;
    return this;
  }

  /**
   * Adds a license (or replaces the config's license of that id). Once one is added, the embedded
   * default license 1234 / 5678 is no longer served unless the config names it.
   */
  withLicense(license: LicenseInput): this {
    const index = this.#licenses.findIndex((l) => l.licenseId === license.licenseId);
    if (index >= 0) this.#licenses.splice(index, 1);
    this.#licenses.push({ ...license });
    return this;
  }

  /** Every image takes this long to process (M8): to test timeouts, 429s and progress. */
  withProcessingDelay(ms: number): this {
    if (!Number.isInteger(ms) || ms < 0) throw new TypeError(`withProcessingDelay(${ms}): expected a whole number of milliseconds, 0 or more.`);
    this.#delayMs = ms;
    return this;
  }

  /** The admin API's token; a random one by default, readable with `getAdminToken()`. */
  withAdminToken(token: string): this {
    if (!token) throw new TypeError('withAdminToken: expected a non-empty token.');
    this.#adminToken = token;
    return this;
  }

  /**
   * Shares the Docker host's network instead of mapping a port, for engines without a bridge
   * network (`dockerd --bridge=none`, some CI sandboxes). The mock then listens on 127.0.0.1 at
   * a free port it picks itself, so the engine must run on this machine (Linux). Set
   * `TESTCONTAINERS_RYUK_DISABLED=true` where Ryuk cannot run, and
   * `TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1` where testcontainers looks for a bridge gateway.
   * The settings `BEIA_MOCK_HOST`, `BEIA_MOCK_PORT` and `BEIA_MOCK_ADMIN_TOKEN` are the module's.
   */
  withHostNetwork(): this {
    this.#hostNetwork = true;
    return this;
  }

  /**
   * Replays the recordings of the live API in `dir` (docs/recordings.md): the folder is bound
   * read-only at `/recordings` and the mock started with `BEIA_MOCK_RECORDINGS=/recordings`. An
   * upload recorded there gets its recorded images; credits, checks and faults stay the mock's.
   * With `strict`, an upload without a recording is a 415 `no_recording` instead of the mock's image.
   */
  withRecordings(dir: string, options: { strict?: boolean } = {}): this {
    const absolute = resolve(dir);
    if (!statSync(absolute, { throwIfNoEntry: false })?.isDirectory()) {
      throw new TypeError(`withRecordings: ${absolute} is not a folder. Give the folder beia mock --record-from ... --recordings DIR wrote.`);
    }
    this.#recordings = { dir: absolute, strict: options.strict === true };
    return this;
  }

  override withLogConsumer(logConsumer: (stream: Readable) => unknown): this {
    this.#userLogConsumer = logConsumer;
    return this;
  }

  override async start(): Promise<StartedBeiaMockContainer> {
    const host = this.#hostNetwork ? '127.0.0.1' : '0.0.0.0';
    const { config, configJson } = await this.#resolveConfig(host);
    await this.#refuseToPullLocalImage();
    // On the host's network, port 0: the mock takes a free port itself and says which, so two
    // containers started at once cannot race for one.
    const environment: Record<string, string> = {
      BEIA_MOCK_ADMIN_TOKEN: this.#adminToken,
      BEIA_MOCK_HOST: host,
      BEIA_MOCK_PORT: String(this.#hostNetwork ? 0 : BEIA_MOCK_PORT),
    };
    if (configJson !== undefined) environment.BEIA_MOCK_CONFIG_JSON = configJson;
    if (this.#recordings) {
      this.withBindMounts([{ source: this.#recordings.dir, target: '/recordings', mode: 'ro' }]);
      environment.BEIA_MOCK_RECORDINGS = '/recordings';
      if (this.#recordings.strict) environment.BEIA_MOCK_RECORDINGS_STRICT = '1';
    }
    if (this.#hostNetwork) this.withNetworkMode('host');
    else this.withExposedPorts(BEIA_MOCK_PORT);
    this.withEnvironment(environment);
    // An engine without the default bridge network (dockerd --bridge=none, some CI sandboxes)
    // cannot map a port of a container on it: such a start gets a network of its own, removed at stop.
    let ownNetwork: StartedNetwork | undefined;
    if (!this.#hostNetwork && this.networkMode === undefined && !(await hasDefaultBridge())) {
      ownNetwork = await new Network().start();
      this.withNetwork(ownNetwork);
    }

    const logs: string[] = [];
    let partial = '';
    let listeningPort: number | undefined;
    let logsEnded: Promise<void> = Promise.resolve();
    super.withLogConsumer((stream) => {
      logsEnded = new Promise((resolve) => stream.once('end', resolve).once('close', resolve));
      stream.on('data', (chunk: Buffer | string) => {
        const lines = (partial + String(chunk)).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines.filter(Boolean)) {
          listeningPort ??= Number(LISTENING_LINE.exec(line)?.[3]) || undefined;
          logs.push(line);
        }
        logs.splice(0, Math.max(0, logs.length - LOG_LINES_KEPT));
      });
      this.#userLogConsumer?.(stream);
    });

    let started;
    try {
      started = await super.start();
    } catch (error) {
      await Promise.race([logsEnded, new Promise((resolve) => setTimeout(resolve, 1_000))]);
      await ownNetwork?.stop().catch(() => {});
      throw (await pullFailure(this.imageName, error)) ?? startFailure(this.imageName.string, error, logs);
    }
    let port: number;
    if (this.#hostNetwork) {
      // The wait strategy saw the line on its own stream; this one follows within moments.
      const deadline = Date.now() + 5_000;
      while (listeningPort === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      if (listeningPort === undefined) {
        await started.stop();
        await ownNetwork?.stop().catch(() => {});
        throw startFailure(this.imageName.string, new Error('the mock started but its port was not seen in its log'), logs);
      }
      port = listeningPort;
    } else {
      port = started.getMappedPort(BEIA_MOCK_PORT);
    }
    const url = `http://${urlHost(this.#hostNetwork ? host : started.getHost())}:${port}`;
    return new StartedBeiaMockContainer(started, { url, adminToken: this.#adminToken, config, ...(ownNetwork ? { network: ownNetwork } : {}) });
  }

  /** testcontainers pulls whatever is missing; a pull of beia-kit/mock would fetch a stranger's image. */
  async #refuseToPullLocalImage(): Promise<void> {
    if (this.imageName.registry !== undefined || this.imageName.image !== LOCAL_IMAGE) return;
    let exists: boolean;
    try {
      exists = await (await getContainerRuntimeClient()).image.exists(this.imageName);
    } catch (error) {
      throw startFailure(this.imageName.string, error, []);
    }
    if (!exists) {
      throw new Error(
        `Failed to start the beia mock container: ${this.imageName.string} is not on this Docker engine, and images named ${LOCAL_IMAGE} are never pulled. Build it in beia-kit with "npm run docker:build" (docs/docker.md).`,
      );
    }
  }

  /**
   * The config the container gets, checked here first: as JSON, or none for the embedded default.
   * A license without allowedIps gets the mock's own default for the address it listens on.
   */
  async #resolveConfig(host: string): Promise<{ config: MockConfig; configJson: string | undefined }> {
    const validate = { defaultAllowedIps: defaultAllowedIps(host) };
    const source = 'BeiaMockContainer config';
    let base: MockConfig | undefined;
    let namesLicenses = false;
    if (typeof this.#config === 'string') {
      try {
        base = await loadConfigFile(this.#config, validate); // the mock's own messages about the file
      } catch (error) {
        throw new Error(`BeiaMockContainer.withConfig: ${(error as Error).message}`, { cause: error });
      }
      namesLicenses = (JSON.parse(await readFile(this.#config, 'utf8')) as { licenses?: unknown }).licenses !== undefined;
    } else if (this.#config !== undefined) {
      base = parseConfigText(JSON.stringify(this.#config), source, validate);
      namesLicenses = this.#config.licenses !== undefined;
    }
    if (base === undefined && this.#licenses.length === 0 && this.#delayMs === undefined) {
      return { config: parseConfigText('{}', source, validate), configJson: undefined };
    }
    const config = base ?? parseConfigText('{}', source, validate);
    // Added licenses replace the embedded default license; they join (or replace by id) the config's own.
    const ids = new Set(this.#licenses.map((l) => l.licenseId));
    const kept = this.#licenses.length === 0 || namesLicenses ? config.licenses.filter((l) => !ids.has(l.licenseId)) : [];
    const merged = {
      ...config,
      licenses: [...kept, ...this.#licenses],
      processing: { ...config.processing, ...(this.#delayMs === undefined ? {} : { delayMs: this.#delayMs }) },
    };
    const configJson = JSON.stringify(merged);
    return { config: parseConfigText(configJson, source, validate), configJson };
  }
}

/** Whether the engine has Docker's default `bridge` network, where a mapped port works. */
async function hasDefaultBridge(): Promise<boolean> {
  const client = await getContainerRuntimeClient();
  try {
    await client.network.getById('bridge').inspect();
    return true;
  } catch {
    return false;
  }
}

/**
 * A start that failed while an image it needs is missing failed pulling it (testcontainers pulls
 * the mock's image, then Ryuk's): says which image, whether it is on this engine, and what fixes
 * it, instead of the registry's error blaming the mock's image. Undefined for any other failure.
 */
async function pullFailure(image: ImageName, error: unknown): Promise<Error | undefined> {
  let imagePresent: boolean;
  let ryukPresent = true;
  const ryukEnabled = process.env.TESTCONTAINERS_RYUK_DISABLED !== 'true' && process.env.TESTCONTAINERS_RYUK_DISABLED !== '1';
  const ryuk = ryukImage();
  try {
    const client = await getContainerRuntimeClient();
    imagePresent = await client.image.exists(image);
    if (ryukEnabled) ryukPresent = await client.image.exists(ImageName.fromString(ryuk));
  } catch {
    return undefined;
  }
  if (imagePresent && ryukPresent) return undefined;
  const reason = (error instanceof Error ? error.message : String(error)).trim();
  const message = !imagePresent
    ? `Failed to start the beia mock container: its image ${image.string} is not on this Docker engine and could not be pulled (${reason}). ` +
      `Pull it where its registry is reachable (docker pull ${image.string}), or build beia-kit/mock in beia-kit with "npm run docker:build" ` +
      `and start new BeiaMockContainer() without an image name.` +
      (ryukEnabled && !ryukPresent
        ? ` Testcontainers' Ryuk image ${ryuk} is not on this engine either: set TESTCONTAINERS_RYUK_DISABLED=true where no registry is reachable.`
        : '')
    : `Failed to start the beia mock container: testcontainers could not pull the image of its Ryuk container, ${ryuk}, which is not on this Docker engine (${reason}). ` +
      `The mock's image ${image.string} is on this engine. Where no registry is reachable, set TESTCONTAINERS_RYUK_DISABLED=true ` +
      `(stop() still removes the container; Ryuk only removes what a crashed run leaves), or load ${ryuk} into the engine (docker pull where a registry answers, docker save | docker load).`;
  return new Error(message, { cause: error });
}

function startFailure(image: string, error: unknown, logs: string[]): Error {
  let message = (error instanceof Error ? error.message : String(error)).trim();
  if (/Could not find a working container runtime strategy/.test(message)) {
    message +=
      '. No Docker engine answered as testcontainers looked for one: start one, or set DOCKER_HOST. Tests that run in a container on an engine without a bridge network also need TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1';
  }
  const tail = logs.length > 0 ? `\nIts last log lines:\n  ${logs.join('\n  ')}` : '';
  return new Error(`Failed to start the beia mock container (${image}): ${message}${tail}`, { cause: error });
}
