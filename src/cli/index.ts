#!/usr/bin/env node
// Each command's module is loaded when it runs: `beia mock` loads neither the client nor the
// conformance suite, and `beia health` not the mock.
import { closest } from './usage.js';

const runMockCommand: (argv: string[], env: NodeJS.ProcessEnv) => Promise<number> = async (argv, env) =>
  (await import('./mock-command.js')).runMockCommand(argv, env);
const runProcessCommand: (argv: string[], env: NodeJS.ProcessEnv) => Promise<number> = async (argv, env) =>
  (await import('./process-command.js')).runProcessCommand(argv, env);
const runConformanceCommand: (argv: string[], env: NodeJS.ProcessEnv) => Promise<number> = async (argv, env) =>
  (await import('./conformance-command.js')).runConformanceCommand(argv, env);
const runHealthCommand: (argv: string[], env: NodeJS.ProcessEnv) => Promise<number> = async (argv, env) =>
  (await import('./health-command.js')).runHealthCommand(argv, env);
const runRecordingsCommand = async (argv: string[]): Promise<number> => (await import('./recordings-command.js')).runRecordingsCommand(argv);

const COMMANDS = ['mock', 'health', 'process', 'conformance', 'recordings', 'help', '--version', '--help'];

const usage = (version: string) => `beia ${version}: mock server and tools for the BEIA image API

Usage:
  beia mock [--host 127.0.0.1] [--port 8080] [--config FILE | --config-json JSON] [--profile FILE] [--admin-token TOKEN]
            [--store memory|file:PATH|redis://HOST:PORT] [--reset-store] [--quiet]
            [--recordings DIR [--recordings-strict] | --record-from URL --recordings DIR [--record-budget N]]
  beia health [URL]
  beia process <files, folders or globs...> --out DIR [--cropped] [--concurrency N] [--endpoint URL] [--force]
  beia conformance --target URL|mock [--dry-run] [--budget N] [--only ...] [--reporter json=FILE] [--record FILE]
  beia conformance --compare OLD.json NEW.json
  beia recordings list|verify|prune DIR [--older-than DAYS] [--broken] [--dry-run]
  beia --version
  beia help [command]

Run "beia <command> --help" for a command's options and environment variables.`;

/** argv -> a command; each command parses its own options and returns an exit code. */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'mock':
      return runMockCommand(rest, process.env);
    case 'process':
      return runProcessCommand(rest, process.env);
    case 'conformance':
      return runConformanceCommand(rest, process.env);
    case 'health':
      return runHealthCommand(rest, process.env);
    case 'recordings':
      return runRecordingsCommand(rest);
    case '--version':
    case '-v':
      console.log((await import('../mock/light.js')).MOCK_VERSION);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      if (rest[0] === 'mock') return runMockCommand(['--help'], process.env);
      if (rest[0] === 'process') return runProcessCommand(['--help'], process.env);
      if (rest[0] === 'conformance') return runConformanceCommand(['--help'], process.env);
      if (rest[0] === 'health') return runHealthCommand(['--help'], process.env);
      if (rest[0] === 'recordings') return runRecordingsCommand(['--help']);
      console.log(usage((await import('../mock/light.js')).MOCK_VERSION));
      return command === undefined ? 2 : 0;
    default: {
      const near = closest(command, COMMANDS);
      console.error(`beia: unknown command "${command}".${near ? ` Did you mean "beia ${near}"?` : ''}\nRun "beia --help" for the commands.`);
      return 2;
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`beia: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
