import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  configureSharpWhenLoaded,
  defaultAllowedIps,
  FileStore,
  RedisStore,
  jsonLogger,
  listeningLine,
  loadConfigFile,
  MOCK_VERSION,
  parseConfigText,
  certificateNames,
  ipEntryProblem,
  localCertificate,
  LOOPBACK_IPS,
  RecordingFolder,
  prettyLogger,
  silentLogger,
  startMockServer,
  type LicenseConfig,
  type RequestLogger,
  type TlsFiles,
  type MockConfig,
  type RecordOptions,
  type ReplayOptions,
  type RunningMockServer,
} from '../mock/serve.js';
import { IMAGE_PATH } from '../contract/index.js';
import { redactUrl } from '../shared/index.js';
import type { CliNetwork } from './network-flags.js';
import { NETWORK_FLAGS } from './network-flag-specs.js';
import { flagsOf, usageError } from './usage.js';

const HELP = `beia mock: a local server that behaves like the BEIA image API

Usage: beia mock [options]

Options (each has an environment variable; the flag wins):
  --host HOST          address to listen on        BEIA_MOCK_HOST         default 127.0.0.1
  --port PORT          port, 0 for any free one    BEIA_MOCK_PORT         default 8080
  --config FILE        JSON config                 BEIA_MOCK_CONFIG       default: one license 1234 / 5678 (docs/configuration.md)
  --config-json JSON   the same config, inline     BEIA_MOCK_CONFIG_JSON  (CI services, containers)
  --profile FILE       behave as observed (beia conformance --record FILE)   BEIA_MOCK_PROFILE
  --admin-token TOKEN  token for /__admin          BEIA_MOCK_ADMIN_TOKEN  beyond loopback: made for you if absent
  --store STORE        where state lives           BEIA_MOCK_STORE        memory (default), file:PATH, or
                                                   redis://[user:pass@]HOST:PORT[/DB] (shared by replicas)
  --reset-store        seed the store from the config even if it holds state   BEIA_MOCK_RESET_STORE=1
  --https              serve HTTPS with a certificate of a CA the mock makes once   BEIA_MOCK_HTTPS=1
  --tls-dir DIR        where that CA and certificate are kept   BEIA_MOCK_TLS_DIR   default ~/.local/state/beia-kit/tls
  --tls-cert FILE      serve HTTPS with your own certificate (PEM)   BEIA_MOCK_TLS_CERT
  --tls-key FILE       ...and its key (PEM)        BEIA_MOCK_TLS_KEY
  --log-format FORMAT  pretty, json or auto        BEIA_MOCK_LOG_FORMAT   default auto: pretty on a terminal, json otherwise (NO_COLOR: no colours)
  --quiet              no request log lines        BEIA_MOCK_QUIET=1
  --public-url URL     where clients reach it, for the banner's URLs   BEIA_MOCK_PUBLIC_URL
                                                   (a container's mapped port: http://127.0.0.1:18080)
  -h, --help           this help

Recordings of the live API (docs/recordings.md):
  --recordings DIR     replay: an upload recorded in DIR gets the recorded images; checks, credits,
                       faults and the journal stay the mock's            BEIA_MOCK_RECORDINGS
  --recordings-strict  an upload without a recording is a 415 no_recording, not the mock's image
                                                                          BEIA_MOCK_RECORDINGS_STRICT=1
  --record-from URL    record: forward each image request to the live endpoint URL with the caller's
                       own credentials, keep its 200s in --recordings DIR   BEIA_MOCK_RECORD_FROM
  --record-budget N    forward at most N requests with DIR, counted in DIR/budget.json across
                       restarts; past it a 402 record_budget_spent           BEIA_MOCK_RECORD_BUDGET
  --record-allow IPS   who may use the recorder: addresses or CIDR blocks, comma-separated
                       (default 127.0.0.1,::1)                               BEIA_MOCK_RECORD_ALLOW
  --proxy URL          the recorder's forward proxy; by default HTTPS_PROXY, HTTP_PROXY and NO_PROXY
  --source-address IP  the recorder's local address (the registered static IP)   BEIA_SOURCE_ADDRESS
  --ca-file FILE       more CA certificates (PEM) for the recorder to trust       BEIA_CA_FILE

Beyond loopback (--host 0.0.0.0) the admin API always needs a token: without one, the mock makes
a random token and prints it once at start. A license with no allowedIps then also accepts the
private ranges (10/8, 172.16/12, 192.168/16, fc00::/7), where a container's mapped port comes from.

A file store (--store file:state.json) keeps credits, licenses, the journal and armed faults across
restarts; a Redis store (--store redis://127.0.0.1:6379) also shares them between replicas. The
config's licenses seed a store only while it is empty (or with --reset-store), so a restart does
not refill credits that tests have spent. One process per file; any number per Redis.

Logs: one line per request on stdout (readable on a terminal, JSON in a pipe, a file or
docker logs of a detached container); the banner and errors on stderr.
Stops on SIGTERM or SIGINT after the requests in flight finish, and exits 0.`;

export interface MockCommandOptions {
  host: string;
  port: number;
  configFile?: string;
  configJson?: string;
  profileFile?: string;
  adminToken?: string;
  /** `memory`, or `file:PATH`. */
  store: StoreChoice;
  resetStore: boolean;
  quiet: boolean;
  /** `pretty` on a terminal, `json` in a pipe or a file (`auto`), or as chosen. */
  logFormat: 'pretty' | 'json' | 'auto';
  /** HTTPS: with a certificate the mock makes in `dir`, or with the user's own files. */
  tls?: { kind: 'local'; dir: string } | { kind: 'files'; cert: string; key: string };
  /** The origin clients reach the mock at (a container's mapped port), printed in the banner. */
  publicUrl?: string;
  /** Replay the recordings in `dir`, or, with `record`, record into it. */
  recordings?: { dir: string; strict: boolean; record?: { from: string; budget?: number; allowedIps: string[]; network: () => Promise<CliNetwork> } };
}

export type StoreChoice = { kind: 'memory' } | { kind: 'file'; path: string } | { kind: 'redis'; url: string };

const MOCK_FLAGS = {
  host: { type: 'string' },
  port: { type: 'string' },
  config: { type: 'string' },
  'config-json': { type: 'string' },
  profile: { type: 'string' },
  'admin-token': { type: 'string' },
  store: { type: 'string' },
  'reset-store': { type: 'boolean' },
  https: { type: 'boolean' },
  'tls-dir': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'log-format': { type: 'string' },
  quiet: { type: 'boolean' },
  'public-url': { type: 'string' },
  recordings: { type: 'string' },
  'recordings-strict': { type: 'boolean' },
  'record-from': { type: 'string' },
  'record-budget': { type: 'string' },
  'record-allow': { type: 'string' },
  ...NETWORK_FLAGS,
  help: { type: 'boolean', short: 'h' },
} as const;

/** Flags, then environment, then defaults. Throws with a message naming the bad value. */
export function readMockOptions(argv: string[], env: NodeJS.ProcessEnv): MockCommandOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: MOCK_FLAGS,
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  // An empty variable is an unset one (compose's ${X:-} and CI templates give empty strings).
  const fromEnv = (name: string) => (env[name] === '' ? undefined : env[name]);
  const portText = values.port ?? fromEnv('BEIA_MOCK_PORT') ?? '8080';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new Error(
      `${values.port === undefined ? 'BEIA_MOCK_PORT' : '--port'} is "${portText}"; expected a port number from 0 to 65535 (0 picks a free port).`,
    );
  }
  const options: MockCommandOptions = {
    host: values.host || fromEnv('BEIA_MOCK_HOST') || '127.0.0.1',
    port,
    store: readStore(values.store ?? fromEnv('BEIA_MOCK_STORE') ?? 'memory', values.store === undefined ? 'BEIA_MOCK_STORE' : '--store'),
    resetStore: values['reset-store'] ?? readSwitch(env.BEIA_MOCK_RESET_STORE, 'BEIA_MOCK_RESET_STORE'),
    quiet: values.quiet ?? readSwitch(env.BEIA_MOCK_QUIET, 'BEIA_MOCK_QUIET'),
    logFormat: readLogFormat(
      values['log-format'] ?? fromEnv('BEIA_MOCK_LOG_FORMAT') ?? 'auto',
      values['log-format'] === undefined ? 'BEIA_MOCK_LOG_FORMAT' : '--log-format',
    ),
  };
  const tls = readTls(values, fromEnv, env);
  if (tls) options.tls = tls;
  const configFile = values.config ?? fromEnv('BEIA_MOCK_CONFIG');
  const configJson = values['config-json'] ?? fromEnv('BEIA_MOCK_CONFIG_JSON');
  if (configFile && configJson) {
    throw new Error('Both a config file (--config, BEIA_MOCK_CONFIG) and an inline config (--config-json, BEIA_MOCK_CONFIG_JSON) are given; keep one.');
  }
  if (configFile) options.configFile = configFile;
  if (configJson) options.configJson = configJson;
  const profileFile = values.profile ?? fromEnv('BEIA_MOCK_PROFILE');
  if (profileFile) options.profileFile = profileFile;
  // A token from a file or a secret store often ends in a newline; the one sent never does.
  const adminToken = (values['admin-token'] ?? fromEnv('BEIA_MOCK_ADMIN_TOKEN'))?.trim();
  if (adminToken) options.adminToken = adminToken;
  const publicUrl = values['public-url'] ?? fromEnv('BEIA_MOCK_PUBLIC_URL');
  if (publicUrl) options.publicUrl = readPublicUrl(publicUrl, values['public-url'] === undefined ? 'BEIA_MOCK_PUBLIC_URL' : '--public-url');
  const recordings = readRecordings(values, fromEnv, env);
  if (recordings) options.recordings = recordings;
  return options;
}

/** `--recordings DIR` alone replays; with `--record-from URL` it records. Each flag that belongs to one mode is refused in the other. */
function readRecordings(
  values: { [K in keyof typeof MOCK_FLAGS]?: (typeof MOCK_FLAGS)[K]['type'] extends 'boolean' ? boolean | undefined : string | undefined },
  fromEnv: (name: string) => string | undefined,
  env: NodeJS.ProcessEnv,
): MockCommandOptions['recordings'] {
  const dir = values.recordings ?? fromEnv('BEIA_MOCK_RECORDINGS');
  const from = values['record-from'] ?? fromEnv('BEIA_MOCK_RECORD_FROM');
  const strict = values['recordings-strict'] ?? readSwitch(env.BEIA_MOCK_RECORDINGS_STRICT, 'BEIA_MOCK_RECORDINGS_STRICT');
  const budgetText = values['record-budget'] ?? fromEnv('BEIA_MOCK_RECORD_BUDGET');
  const allowText = values['record-allow'] ?? fromEnv('BEIA_MOCK_RECORD_ALLOW');
  const networkFlags = (['proxy', 'source-address', 'ca-file'] as const).filter((flag) => values[flag] !== undefined);
  if (from === undefined) {
    const recordOnly = [
      ...(budgetText !== undefined ? ['--record-budget (BEIA_MOCK_RECORD_BUDGET)'] : []),
      ...(allowText !== undefined ? ['--record-allow (BEIA_MOCK_RECORD_ALLOW)'] : []),
      ...networkFlags.map((flag) => `--${flag}`),
    ];
    if (recordOnly.length > 0) throw new Error(`${recordOnly.join(', ')} set how the mock records: add --record-from URL --recordings DIR, or drop them.`);
    if (strict && dir === undefined) throw new Error('--recordings-strict (BEIA_MOCK_RECORDINGS_STRICT) needs --recordings DIR: the recordings to replay.');
    return dir === undefined ? undefined : { dir, strict };
  }
  if (dir === undefined) throw new Error('--record-from (BEIA_MOCK_RECORD_FROM) needs --recordings DIR: the folder the live answers are kept in.');
  if (strict)
    throw new Error('--recordings-strict is for replaying; a recorder forwards every upload. Drop --record-from to replay, or --recordings-strict to record.');
  let url: URL | undefined;
  try {
    url = new URL(from);
  } catch {
    // said below
  }
  if (url?.protocol !== 'https:' && url?.protocol !== 'http:') {
    throw new Error(
      `--record-from (BEIA_MOCK_RECORD_FROM) is "${redactUrl(from)}"; expected the live image endpoint, https://aws.beiatechnology.com/beia-api/v1/image.`,
    );
  }
  if (budgetText !== undefined && !/^\d{1,9}$/.test(budgetText.trim())) {
    throw new Error(`--record-budget (BEIA_MOCK_RECORD_BUDGET) is "${budgetText}"; expected a whole number of forwarded requests, 0 or more.`);
  }
  const allowedIps = allowText === undefined ? [...LOOPBACK_IPS] : allowText.split(/[\s,]+/).filter(Boolean);
  const problem = allowedIps.map(ipEntryProblem).find((found) => found !== undefined);
  if (problem !== undefined || allowedIps.length === 0) {
    throw new Error(
      `--record-allow (BEIA_MOCK_RECORD_ALLOW): ${problem ?? 'no address given'}. Give addresses or CIDR blocks, comma-separated: 127.0.0.1,172.16.0.0/12.`,
    );
  }
  const record: NonNullable<NonNullable<MockCommandOptions['recordings']>['record']> = {
    from,
    allowedIps,
    // Read when the recorder starts: the client's network code is loaded only to record.
    network: async () => (await import('./network-flags.js')).readNetwork(values, env),
  };
  if (budgetText !== undefined) record.budget = Number(budgetText.trim());
  return { dir, strict: false, record };
}

function readStore(text: string, source: string): StoreChoice {
  const value = text.trim();
  if (value === 'memory') return { kind: 'memory' };
  if (value.startsWith('file://')) {
    // A file URL (file:///var/lib/beia/state.json): only an absolute path, with no host.
    try {
      return { kind: 'file', path: fileURLToPath(value) };
    } catch (error) {
      throw new Error(
        `${source} is "${value}": ${(error as Error).message}. Write file:PATH (file:./state.json, file:/var/lib/beia/state.json) or file:///ABSOLUTE/PATH.`,
        { cause: error },
      );
    }
  }
  if (value.startsWith('file:') && value.length > 'file:'.length) return { kind: 'file', path: value.slice('file:'.length) };
  if (/^rediss?:\/\/[^/]/.test(value)) return { kind: 'redis', url: value };
  throw new Error(`${source} is "${redactUrl(value)}"; expected memory, file:PATH (e.g. file:./beia-state.json) or redis://HOST:PORT[/DB].`);
}

function readTls(
  values: { https?: boolean | undefined; 'tls-dir'?: string | undefined; 'tls-cert'?: string | undefined; 'tls-key'?: string | undefined },
  fromEnv: (name: string) => string | undefined,
  env: NodeJS.ProcessEnv,
): MockCommandOptions['tls'] {
  const cert = values['tls-cert'] ?? fromEnv('BEIA_MOCK_TLS_CERT');
  const key = values['tls-key'] ?? fromEnv('BEIA_MOCK_TLS_KEY');
  const https = values.https ?? readSwitch(env.BEIA_MOCK_HTTPS, 'BEIA_MOCK_HTTPS');
  if (cert !== undefined || key !== undefined) {
    if (cert === undefined || key === undefined) {
      throw new Error('--tls-cert and --tls-key (BEIA_MOCK_TLS_CERT, BEIA_MOCK_TLS_KEY) go together: the certificate and its key, both PEM files.');
    }
    return { kind: 'files', cert, key };
  }
  const dir = values['tls-dir'] ?? fromEnv('BEIA_MOCK_TLS_DIR');
  if (!https) {
    if (dir !== undefined) throw new Error('--tls-dir (BEIA_MOCK_TLS_DIR) says where --https keeps its CA: add --https, or drop it.');
    return undefined;
  }
  const state = fromEnv('XDG_STATE_HOME') ?? join(homedir(), '.local', 'state');
  return { kind: 'local', dir: resolve(dir ?? join(state, 'beia-kit', 'tls')) };
}

/** The key and certificate to serve, and the CA file a client must trust when the mock made it. */
async function loadTls(options: MockCommandOptions): Promise<(TlsFiles & { made?: string }) | undefined> {
  const tls = options.tls;
  if (!tls) return undefined;
  if (tls.kind === 'local') return localCertificate(tls.dir, certificateNames(options.host));
  const read = (file: string, what: string) =>
    readFile(file, 'utf8').catch((error: unknown) => {
      throw new Error(`Failed to read the TLS ${what} ${file}: ${(error as Error).message}. Give a PEM file readable by this user.`, { cause: error });
    });
  return { cert: await read(tls.cert, 'certificate'), key: await read(tls.key, 'key') };
}

/** An http(s) origin, e.g. the host's side of a container's mapped port; any path is dropped. */
function readPublicUrl(text: string, source: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new Error(`${source} is "${text}"; expected the URL clients reach the mock at, such as http://127.0.0.1:18080.`);
  }
  return url.origin;
}

function readLogFormat(text: string, source: string): MockCommandOptions['logFormat'] {
  const value = text.trim().toLowerCase();
  if (value === 'pretty' || value === 'json' || value === 'auto') return value;
  throw new Error(
    `${source} is "${text}"; expected pretty (one readable line per request), json (one JSON object per line), or auto (pretty on a terminal, json otherwise).`,
  );
}

/** What a client needs to trust the mock's own CA: its file, and the line for Node, Python and curl. */
function tlsLines(tls: (TlsFiles & { made?: string }) | undefined): string[] {
  if (!tls) return [];
  if (!tls.caFile) return ['  tls       your certificate (--tls-cert)'];
  const made = tls.made === 'ca' ? 'made now' : tls.made === 'server' ? 'kept; server certificate made again' : 'kept from an earlier start';
  return [
    `  tls       CA ${tls.caFile} (${made}); trust it once:`,
    `            Node: NODE_EXTRA_CA_CERTS=${tls.caFile}   Python: REQUESTS_CA_BUNDLE=${tls.caFile}   curl: --cacert ${tls.caFile}`,
  ];
}

/** The request log `beia mock` writes: none, readable on a terminal, JSON for CI and log shippers. */
function requestLogger(options: MockCommandOptions, env: NodeJS.ProcessEnv): RequestLogger {
  if (options.quiet) return silentLogger;
  const tty = process.stdout.isTTY === true;
  const pretty = options.logFormat === 'pretty' || (options.logFormat === 'auto' && tty);
  // NO_COLOR (no-color.org): any value but empty turns colours off.
  return pretty ? prettyLogger(process.stdout, { color: tty && !env.NO_COLOR && env.TERM !== 'dumb' }) : jsonLogger(process.stdout);
}

function readSwitch(text: string | undefined, name: string): boolean {
  const value = (text ?? '').trim().toLowerCase();
  if (['', '0', 'false', 'no', 'off'].includes(value)) return false;
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  throw new Error(`${name} is "${text}"; expected 1 or 0 (true/false, yes/no, on/off).`);
}

/**
 * `beia mock`: start, print where and with what to call, stop cleanly on SIGTERM/SIGINT.
 * The signal handlers come first, so a stop during start-up is never lost or waited out.
 */
export async function runMockCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let options: MockCommandOptions | 'help';
  try {
    options = readMockOptions(argv, env);
  } catch (error) {
    console.error(usageError('beia mock', error, flagsOf(MOCK_FLAGS)));
    return 2;
  }
  if (options === 'help') {
    console.log(HELP);
    return 0;
  }

  let mock: RunningMockServer | undefined;
  let recordings: Recordings | undefined;
  let stopping = false;
  let stopped: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => (stopped = resolve));
  const onSignal = (signal: NodeJS.Signals) => {
    if (!mock) {
      // Nothing is served yet, so nothing is lost. A config read may be stuck (a FIFO, a dead
      // mount), and process.exit would wait for it; dying by the signal itself does not.
      console.error(`beia mock: ${signal} received while starting; stopped before serving any request.`);
      const code = 128 + (signal === 'SIGINT' ? 2 : 15);
      // As process 1 (a container without an init) the kernel would drop the signal sent to self.
      if (process.pid === 1) process.exit(code);
      process.off('SIGTERM', onSignal).off('SIGINT', onSignal);
      process.kill(process.pid, signal);
      return;
    }
    if (stopping) {
      console.error(`beia mock: ${signal} again, exiting without waiting.`);
      process.exit(1);
    }
    stopping = true;
    console.error(`beia mock: ${signal} received, finishing the requests in flight...`);
    void mock.close().then(async () => {
      // The recorder's connections to the live API would keep the process up until they time out.
      await recordings?.record?.dispatcher?.close().catch(() => {});
      console.error('beia mock: stopped.');
      stopped(0);
    });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  let store: FileStore | RedisStore | undefined;
  let tls: (TlsFiles & { made?: string }) | undefined;
  try {
    const allowedIps = { defaultAllowedIps: defaultAllowedIps(options.host) };
    let config: MockConfig = options.configFile
      ? await loadConfigFile(options.configFile, allowedIps)
      : parseConfigText(
          options.configJson ?? '{}',
          options.configJson ? 'config in --config-json or BEIA_MOCK_CONFIG_JSON' : 'embedded default config',
          allowedIps,
        );
    if (options.profileFile) {
      // The conformance suite's code only for --profile.
      const { applyProfile, readObservations } = await import('../conformance/index.js');
      config = applyProfile(config, (await readObservations(options.profileFile)).observations);
    }
    configureSharpWhenLoaded();
    const seeding = {
      seed: config.licenses,
      maxJournalEntries: config.journal.maxEntries,
      maxJournalBytes: config.journal.maxBytes,
      reset: options.resetStore,
    };
    if (options.store.kind === 'file') store = await FileStore.open(options.store.path, seeding);
    if (options.store.kind === 'redis') store = await RedisStore.open(options.store.url, { ...seeding, ...config.store });
    tls = await loadTls(options);
    recordings = await openRecordings(options);
    mock = await startMockServer({
      ...(recordings?.record ? { record: recordings.record } : {}),
      ...(recordings?.replay ? { replay: recordings.replay } : {}),
      ...(tls ? { tls: { key: tls.key, cert: tls.cert } } : {}),
      host: options.host,
      port: options.port,
      config,
      logger: requestLogger(options, env),
      processMetrics: true,
      ...(store ? { store } : {}),
      ...(options.adminToken ? { adminToken: options.adminToken } : {}),
    });
  } catch (error) {
    await store?.close().catch(() => {});
    console.error(`beia mock: ${(error as Error).message}`);
    return 1;
  }

  // Licenses made per test are not printed: their keys are shown once, to the test that made them.
  // A recorder uses none: the live API checks the caller's own.
  const licenses = recordings?.record ? [] : (await mock.store.listLicenses()).filter((license) => license.expiresAt === undefined);
  process.stderr.write(banner(mock, options, licenses, store, tls, runningInContainer(), recordings));
  return done;
}

/** What `--recordings` opened: the recorder's or the replay's options, and how many recordings the folder holds. */
type Recordings = { record?: RecordOptions; replay?: ReplayOptions; count: number; route?: string };

/** The recordings folder, opened for the mode asked: made when recording, required when replaying. */
async function openRecordings(options: MockCommandOptions): Promise<Recordings | undefined> {
  const asked = options.recordings;
  if (!asked) return undefined;
  const folder = await RecordingFolder.open(asked.dir, { create: asked.record !== undefined });
  const count = (await folder.list()).length;
  if (!asked.record) return { replay: { recordings: folder, strict: asked.strict }, count };
  // A dispatcher of its own, which the mock closes when it stops; the client's code only to record.
  const [{ Agent }, { describeRoute, networkDispatcher }, { networkOptions }] = await Promise.all([
    import('undici'),
    import('../client/index.js'),
    import('./network-flags.js'),
  ]);
  const network = await asked.record.network();
  const dispatcher = networkDispatcher(await networkOptions(network)) ?? new Agent();
  const record: RecordOptions = { from: asked.record.from, recordings: folder, allowedIps: asked.record.allowedIps, dispatcher };
  if (asked.record.budget !== undefined) record.budget = asked.record.budget;
  return { record, count, route: describeRoute(asked.record.from, network.proxy) };
}

/** The banner's lines for recording or replaying. */
function recordingLines(options: MockCommandOptions, recordings: Recordings | undefined): string[] {
  const { record, replay, count, route } = recordings ?? {};
  if (record) {
    const from = redactUrl(record.from);
    const budget =
      record.budget === undefined
        ? `no budget (${record.recordings.forwarded} forwarded so far; --record-budget N stops at N)`
        : `budget ${record.budget}, ${record.recordings.forwarded} forwarded so far (${record.recordings.dir}/budget.json)`;
    return [
      `  record    forwards each image request to ${from} ${route ?? ''}, with the caller's own credentials;`,
      `            keeps its 200s in ${record.recordings.dir} (${count} recordings); ${budget}`,
      `            only from ${(record.allowedIps ?? LOOPBACK_IPS).join(', ')} (--record-allow); the mock's licenses, credits and faults do not apply`,
    ];
  }
  if (replay) {
    const unknown = replay.strict ? 'a 415 no_recording (--recordings-strict)' : "the mock's own image";
    return [`  replay    ${replay.recordings.dir}: ${count} recordings of the live API; an upload without one gets ${unknown}`];
  }
  return [];
}

/** Docker writes /.dockerenv into every container, Podman /run/.containerenv. */
function runningInContainer(): boolean {
  return existsSync('/.dockerenv') || existsSync('/run/.containerenv');
}

function banner(
  mock: RunningMockServer,
  options: MockCommandOptions,
  licenses: readonly LicenseConfig[],
  store: FileStore | RedisStore | undefined,
  tls: (TlsFiles & { made?: string }) | undefined,
  inContainer: boolean,
  recordings?: Recordings,
): string {
  // In a container the mock's own address is not the one the host calls: say so, or print the one given.
  const url = options.publicUrl ?? mock.url;
  const endpoint = `${url}${IMAGE_PATH}`;
  const admin = mock.adminTokenGenerated
    ? `token required: Authorization: Bearer ${mock.adminToken}  (made for this run; BEIA_MOCK_ADMIN_TOKEN sets your own)`
    : mock.adminToken
      ? 'token required: the one given'
      : 'open: loopback only';
  const where = options.publicUrl
    ? `  public    ${options.publicUrl} (BEIA_MOCK_PUBLIC_URL)${inContainer ? `, mapped to port ${mock.port} of this container` : ''}: the URLs below use it`
    : inContainer
      ? `  container in a container: ${mock.port} is its port inside. From the host, call the port -p maps to it (docker port <container> ${mock.port}), or ${mock.port} itself with --network host; BEIA_MOCK_PUBLIC_URL=http://127.0.0.1:<host port> prints the URLs below for the host`
      : undefined;
  const lines = [
    listeningLine(mock, MOCK_VERSION),
    ...(where ? [where] : []),
    `  endpoint  ${endpoint}`,
    `  dashboard ${url}/__admin/ui  (open it in a browser: requests live, licenses, faults)`,
    `  admin     ${url}/__admin  ${admin}`,
    `  health    ${url}/__admin/health`,
    `  runtime   Node ${process.version} (${process.platform}-${process.arch})`,
    `  config    ${options.configFile ?? (options.configJson ? 'inline (--config-json, BEIA_MOCK_CONFIG_JSON)' : 'embedded default')}${options.profileFile ? `, as observed in ${options.profileFile}` : ''}`,
    store
      ? `  store     ${store instanceof FileStore ? `file:${store.path}` : `${store.url} (keys ${mock.config.store.prefix}*)`}  ${store.loaded ? "loaded: the config's licenses seed an empty store only (--reset-store reseeds)" : 'new: seeded from the config'}`
      : '  store     memory (state is lost at exit; --store file:PATH or redis://... keeps it)',
    ...tlsLines(tls),
    ...recordingLines(options, recordings),
    ...licenses
      .slice(0, 10)
      .map(
        (l) => `  license   licenseId ${l.licenseId}  apiKey ${l.apiKey}  credits ${l.credits}  from ${l.allowedIps.join(', ')}  ${l.maxConcurrent} at a time`,
      ),
    ...(licenses.length > 10 ? [`  license   ... and ${licenses.length - 10} more: GET /__admin/licenses`] : []),
  ];
  const first = licenses[0];
  if (recordings?.record) {
    lines.push(
      `  try       curl -X POST "${mock.endpoint}" -H "License-Id: $BEIA_LICENSE_ID" -F "image=@photo.jpg;filename=photo.jpg" -F "apiKey=$BEIA_API_KEY" -F "licenseId=$BEIA_LICENSE_ID" -o result.png`,
    );
  }
  if (first) {
    // A file that is there: beia-kit's own example when run from its folder, else one to replace.
    const image = existsSync('examples/001.jpg') ? 'examples/001.jpg' : 'photo.jpg';
    lines.push(
      `  try       curl${tls?.caFile ? ` --cacert ${tls.caFile}` : ''} -X POST "${endpoint}" -H "License-Id: ${first.licenseId}" -F "image=@${image};filename=${basename(image)}" -F "apiKey=${first.apiKey}" -F "licenseId=${first.licenseId}" -o result.png`,
    );
    if (image === 'photo.jpg') lines.push('            (photo.jpg: any JPEG or PNG of yours)');
  }
  return `${lines.join('\n')}\n`;
}
