import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  configureSharpForMock,
  defaultAllowedIps,
  FileStore,
  RedisStore,
  jsonLogger,
  listeningLine,
  loadConfigFile,
  MOCK_VERSION,
  parseConfigText,
  prettyLogger,
  silentLogger,
  startMockServer,
  type LicenseConfig,
  type RequestLogger,
  type MockConfig,
  type RunningMockServer,
} from '../mock/index.js';
import { applyProfile, readObservations } from '../conformance/index.js';
import { redactUrl } from '../shared/index.js';
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
  --log-format FORMAT  pretty, json or auto        BEIA_MOCK_LOG_FORMAT   default auto: pretty on a terminal, json otherwise (NO_COLOR: no colours)
  --quiet              no request log lines        BEIA_MOCK_QUIET=1
  -h, --help           this help

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
  'log-format': { type: 'string' },
  quiet: { type: 'boolean' },
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
  return options;
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

function readLogFormat(text: string, source: string): MockCommandOptions['logFormat'] {
  const value = text.trim().toLowerCase();
  if (value === 'pretty' || value === 'json' || value === 'auto') return value;
  throw new Error(
    `${source} is "${text}"; expected pretty (one readable line per request), json (one JSON object per line), or auto (pretty on a terminal, json otherwise).`,
  );
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
    void mock.close().then(() => {
      console.error('beia mock: stopped.');
      stopped(0);
    });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  let store: FileStore | RedisStore | undefined;
  try {
    const allowedIps = { defaultAllowedIps: defaultAllowedIps(options.host) };
    let config: MockConfig = options.configFile
      ? await loadConfigFile(options.configFile, allowedIps)
      : parseConfigText(
          options.configJson ?? '{}',
          options.configJson ? 'config in --config-json or BEIA_MOCK_CONFIG_JSON' : 'embedded default config',
          allowedIps,
        );
    if (options.profileFile) config = applyProfile(config, (await readObservations(options.profileFile)).observations);
    configureSharpForMock();
    const seeding = {
      seed: config.licenses,
      maxJournalEntries: config.journal.maxEntries,
      maxJournalBytes: config.journal.maxBytes,
      reset: options.resetStore,
    };
    if (options.store.kind === 'file') store = await FileStore.open(options.store.path, seeding);
    if (options.store.kind === 'redis') store = await RedisStore.open(options.store.url, { ...seeding, ...config.store });
    mock = await startMockServer({
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
  const licenses = (await mock.store.listLicenses()).filter((license) => license.expiresAt === undefined);
  process.stderr.write(banner(mock, options, licenses, store));
  return done;
}

function banner(mock: RunningMockServer, options: MockCommandOptions, licenses: readonly LicenseConfig[], store: FileStore | RedisStore | undefined): string {
  const admin = mock.adminTokenGenerated
    ? `token required: Authorization: Bearer ${mock.adminToken}  (made for this run; BEIA_MOCK_ADMIN_TOKEN sets your own)`
    : mock.adminToken
      ? 'token required: the one given'
      : 'open: loopback only';
  const lines = [
    listeningLine(mock, MOCK_VERSION),
    `  endpoint  ${mock.endpoint}`,
    `  dashboard ${mock.url}/__admin/ui  (open it in a browser: requests live, licenses, faults)`,
    `  admin     ${mock.url}/__admin  ${admin}`,
    `  health    ${mock.url}/__admin/health`,
    `  runtime   Node ${process.version} (${process.platform}-${process.arch})`,
    `  config    ${options.configFile ?? (options.configJson ? 'inline (--config-json, BEIA_MOCK_CONFIG_JSON)' : 'embedded default')}${options.profileFile ? `, as observed in ${options.profileFile}` : ''}`,
    store
      ? `  store     ${store instanceof FileStore ? `file:${store.path}` : `${store.url} (keys ${mock.config.store.prefix}*)`}  ${store.loaded ? "loaded: the config's licenses seed an empty store only (--reset-store reseeds)" : 'new: seeded from the config'}`
      : '  store     memory (state is lost at exit; --store file:PATH or redis://... keeps it)',
    ...licenses
      .slice(0, 10)
      .map(
        (l) => `  license   licenseId ${l.licenseId}  apiKey ${l.apiKey}  credits ${l.credits}  from ${l.allowedIps.join(', ')}  ${l.maxConcurrent} at a time`,
      ),
    ...(licenses.length > 10 ? [`  license   ... and ${licenses.length - 10} more: GET /__admin/licenses`] : []),
  ];
  const first = licenses[0];
  if (first) {
    // A file that is there: beia-kit's own example when run from its folder, else one to replace.
    const image = existsSync('examples/001.jpg') ? 'examples/001.jpg' : 'photo.jpg';
    lines.push(
      `  try       curl -X POST "${mock.endpoint}" -H "License-Id: ${first.licenseId}" -F "image=@${image};filename=${basename(image)}" -F "apiKey=${first.apiKey}" -F "licenseId=${first.licenseId}" -o result.png`,
    );
    if (image === 'photo.jpg') lines.push('            (photo.jpg: any JPEG or PNG of yours)');
  }
  return `${lines.join('\n')}\n`;
}
