import { readFile } from 'node:fs/promises';
import { ConfigError } from './reader.js';
import type { MockConfig } from './types.js';
import { validateConfig, type ValidateOptions } from './validate.js';

/**
 * Reads and validates a JSON config file. Every failure says which file and what to fix.
 *
 * @example
 * ```ts
 * const config = await loadConfigFile('./beia-mock.json');
 * ```
 */
export async function loadConfigFile(file: string, options: Omit<ValidateOptions, 'path'> = {}): Promise<MockConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const uid = process.getuid?.();
    const hint =
      code === 'EACCES' && uid !== undefined
        ? ` Make it readable by the user the mock runs as (uid ${uid}), e.g. chmod a+r on the file.`
        : code === 'EISDIR'
          ? ' That is a folder: give the JSON file inside it.'
          : ' Check the path given to --config or BEIA_MOCK_CONFIG (in a container, the path inside it, where the file is mounted).';
    throw new Error(`Failed to read config file ${file}: ${(error as Error).message}.${hint}`, { cause: error });
  }
  return parseConfigText(text, `config file ${file}`, options);
}

/** ` (line L, column C: <that line>)` for a JSON.parse error that names a position; empty otherwise. */
function lineAndColumn(text: string, error: Error): string {
  const position = /position (\d+)/.exec(error.message)?.[1];
  if (position === undefined) return '';
  const before = text.slice(0, Number(position));
  const line = before.split('\n').length;
  const column = Number(position) - before.lastIndexOf('\n');
  const shown = (text.split('\n')[line - 1] ?? '').trim().slice(0, 80);
  return ` (line ${line}, column ${column}: ${shown})`;
}

/**
 * Parses and validates a config given as JSON text, e.g. from `BEIA_MOCK_CONFIG_JSON`.
 * `source` names it in every message: `Invalid config in BEIA_MOCK_CONFIG_JSON: ...`.
 *
 * @example
 * ```ts
 * const config = parseConfigText('{"processing":{"delayMs":200}}', 'BEIA_MOCK_CONFIG_JSON');
 * ```
 */
export function parseConfigText(text: string, source: string, options: Omit<ValidateOptions, 'path'> = {}): MockConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`Failed to parse ${source}: ${(error as Error).message}${lineAndColumn(text, error as Error)}. It must be JSON.`, { cause: error });
  }
  try {
    return validateConfig(json, options);
  } catch (error) {
    if (error instanceof ConfigError) throw new Error(`Invalid ${source}: ${error.message}.`, { cause: error });
    throw error;
  }
}
