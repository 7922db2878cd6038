import { readFile } from 'node:fs/promises';
import { ConfigError } from './reader.js';
import type { MockConfig } from './types.js';
import { validateConfig } from './validate.js';

/**
 * Reads and validates a JSON config file. Every failure says which file and what to fix.
 *
 * @example
 * ```ts
 * const config = await loadConfigFile('./beia-mock.json');
 * ```
 */
export async function loadConfigFile(file: string): Promise<MockConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`Failed to read config file ${file}: ${(error as Error).message}. Check the path given to --config or BEIA_MOCK_CONFIG.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`Failed to parse config file ${file}: ${(error as Error).message}. The file must be JSON.`);
  }
  try {
    return validateConfig(json);
  } catch (error) {
    if (error instanceof ConfigError) throw new Error(`Invalid config file ${file}: ${error.message}.`);
    throw error;
  }
}
