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
  silentLogger,
  startMockServer,
  type LicenseConfig,
  type MockConfig,
  type RunningMockServer,
} from '../mock/index.js';
import { applyProfile, readObservations } from '../conformance/index.js';
import { redactUrl } from '../shared/index.js';

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
  --quiet              no request log lines        BEIA_MOCK_QUIET=1
  -h, --help           this help

Beyond loopback (--host 0.0.0.0) the admin API always needs a token: without one, the mock makes
a random token and prints it once at start. A license with no allowedIps then also accepts the
private ranges (10/8, 172.16/12, 192.168/16, fc00::/7), where a container's mapped port comes from.

A file store (--store file:state.json) keeps credits, licenses, the journal and armed faults across
restarts; a Redis store (--store redis://127.0.0.1:6379) also shares them between replicas. The
config's licenses seed a store only while it is empty (or with --reset-store), so a restart does
not refill credits that tests have spent. One process per file; any number per Redis.

Logs: one JSON line per request on stdout; the banner and errors on stderr.
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
}

export type StoreChoice = { kind: 'memory' } | { kind: 'file'; path: string } | { kind: 'redis'; url: string };

/** Flags, then environment, then defaults. Throws with a message naming the bad value. */
export function readMockOptions(argv: string[], env: NodeJS.ProcessEnv): MockCommandOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      config: { type: 'string' },
      'config-json': { type: 'string' },
      profile: { type: 'string' },
      'admin-token': { type: 'string' },
      store: { type: 'string' },
      'reset-store': { type: 'boolean' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
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
    console.error(`beia mock: ${(error as Error).message}\nRun "beia mock --help" for the options and their environment variables.`);
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
      logger: options.quiet ? silentLogger : jsonLogger(process.stdout),
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
    lines.push(
      `  try       curl -X POST "${mock.endpoint}" -H "License-Id: ${first.licenseId}" -F "image=@photo.jpg;filename=photo.jpg" -F "apiKey=${first.apiKey}" -F "licenseId=${first.licenseId}" -o result.png`,
    );
  }
  return `${lines.join('\n')}\n`;
}
