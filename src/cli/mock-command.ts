import { parseArgs } from 'node:util';
import {
  DEFAULT_CONFIG,
  jsonLogger,
  loadConfigFile,
  MOCK_VERSION,
  silentLogger,
  startMockServer,
  type MockConfig,
  type RunningMockServer,
} from '../mock/index.js';
import { applyProfile, readObservations } from '../conformance/index.js';

const HELP = `beia mock: a local server that behaves like the BEIA image API

Usage: beia mock [options]

Options (each has an environment variable; the flag wins):
  --host HOST          address to listen on        BEIA_MOCK_HOST         default 127.0.0.1
  --port PORT          port, 0 for any free one    BEIA_MOCK_PORT         default 8080
  --config FILE        JSON config (README)        BEIA_MOCK_CONFIG       default: one license 1234 / 5678
  --profile FILE       behave as observed (beia conformance --record FILE)   BEIA_MOCK_PROFILE
  --admin-token TOKEN  token for /__admin          BEIA_MOCK_ADMIN_TOKEN  required beyond loopback
  --quiet              no request log lines        BEIA_MOCK_QUIET=1
  -h, --help           this help

Logs: one JSON line per request on stdout; the banner and errors on stderr.
Stops on SIGTERM or SIGINT after the requests in flight finish, and exits 0.`;

export interface MockCommandOptions {
  host: string;
  port: number;
  configFile?: string;
  profileFile?: string;
  adminToken?: string;
  quiet: boolean;
}

/** Flags, then environment, then defaults. Throws with a message naming the bad value. */
export function readMockOptions(argv: string[], env: NodeJS.ProcessEnv): MockCommandOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      config: { type: 'string' },
      profile: { type: 'string' },
      'admin-token': { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const portText = values.port ?? env.BEIA_MOCK_PORT ?? '8080';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new Error(`--port is "${portText}"; expected a port number from 0 to 65535 (0 picks a free port).`);
  }
  const options: MockCommandOptions = {
    host: values.host ?? env.BEIA_MOCK_HOST ?? '127.0.0.1',
    port,
    quiet: values.quiet ?? ['1', 'true'].includes((env.BEIA_MOCK_QUIET ?? '').toLowerCase()),
  };
  const configFile = values.config ?? env.BEIA_MOCK_CONFIG;
  if (configFile) options.configFile = configFile;
  const profileFile = values.profile ?? env.BEIA_MOCK_PROFILE;
  if (profileFile) options.profileFile = profileFile;
  const adminToken = values['admin-token'] ?? env.BEIA_MOCK_ADMIN_TOKEN;
  if (adminToken) options.adminToken = adminToken;
  return options;
}

/** `beia mock`: start, print where and with what to call, stop cleanly on SIGTERM/SIGINT. */
export async function runMockCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let options: MockCommandOptions | 'help';
  try {
    options = readMockOptions(argv, env);
  } catch (error) {
    console.error(`beia mock: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (options === 'help') {
    console.log(HELP);
    return 0;
  }

  let config: MockConfig;
  let mock: RunningMockServer;
  try {
    config = options.configFile ? await loadConfigFile(options.configFile) : DEFAULT_CONFIG;
    if (options.profileFile) config = applyProfile(config, (await readObservations(options.profileFile)).observations);
    mock = await startMockServer({
      host: options.host,
      port: options.port,
      config,
      logger: options.quiet ? silentLogger : jsonLogger(process.stdout),
      ...(options.adminToken ? { adminToken: options.adminToken } : {}),
    });
  } catch (error) {
    console.error(`beia mock: ${(error as Error).message}`);
    return 1;
  }

  process.stderr.write(banner(mock, options));

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        console.error(`beia mock: ${signal} again, exiting without waiting.`);
        process.exit(1);
      }
      stopping = true;
      console.error(`beia mock: ${signal} received, finishing the requests in flight...`);
      mock.close().then(() => {
        console.error('beia mock: stopped.');
        resolve(0);
      });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

function banner(mock: RunningMockServer, options: MockCommandOptions): string {
  const lines = [
    `beia mock ${MOCK_VERSION} listening`,
    `  endpoint  ${mock.endpoint}`,
    `  admin     ${mock.url}/__admin (${options.adminToken ? 'token required' : 'open: loopback only'}), health at ${mock.url}/__admin/health`,
    `  config    ${options.configFile ?? 'embedded default'}${options.profileFile ? `, as observed in ${options.profileFile}` : ''}`,
    ...mock.config.licenses.map(
      (l) => `  license   licenseId ${l.licenseId}  apiKey ${l.apiKey}  credits ${l.credits}  from ${l.allowedIps.join(', ')}  ${l.maxConcurrent} at a time`,
    ),
  ];
  const first = mock.config.licenses[0];
  if (first) {
    lines.push(
      `  try       curl -X POST "${mock.endpoint}" -H "License-Id: ${first.licenseId}" -F "image=@photo.jpg;filename=photo.jpg" -F "apiKey=${first.apiKey}" -F "licenseId=${first.licenseId}" -o result.png`,
    );
  }
  return `${lines.join('\n')}\n`;
}
