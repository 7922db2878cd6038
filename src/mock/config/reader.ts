/**
 * Small readers for untrusted JSON: each names the path of a bad value and what was expected,
 * so a config file or an admin request is refused with a message a person can act on.
 */

/** A value in a config file or an admin request that is not what it should be. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly path: string;
  constructor(path: string, expected: string, got: unknown) {
    super(`${path}: expected ${expected}, got ${describe(got)}`);
    this.path = path;
  }
}

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value === null) return 'null';
  let text: string;
  if (typeof value === 'string' || typeof value === 'object') text = JSON.stringify(value);
  else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') text = String(value);
  else text = typeof value;
  return `${typeof value} ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}

export type Json = Record<string, unknown>;

/** An object whose keys are all among `known`; a misspelt key is an error, not silently ignored. */
export function readObject(value: unknown, path: string, known: readonly string[]): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(path, 'an object', value);
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw new ConfigError(`${path}.${key}`, `one of the known keys (${known.join(', ')})`, key);
  }
  return value as Json;
}

export function readInt(value: unknown, path: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(path, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

export function readNumber(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(path, `a number from ${min} to ${max}`, value);
  }
  return value;
}

export function readString(value: unknown, path: string): string {
  if (typeof value !== 'string' || value === '') throw new ConfigError(path, 'a non-empty string', value);
  return value;
}

export function readBoolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') throw new ConfigError(path, 'true or false', value);
  return value;
}

export function readEnum<T extends string>(value: unknown, path: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(path, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`, value);
  }
  return value as T;
}

export function readArray<T>(value: unknown, path: string, item: (value: unknown, path: string) => T): T[] {
  if (!Array.isArray(value)) throw new ConfigError(path, 'an array', value);
  return value.map((entry, index) => item(entry, `${path}[${index}]`));
}
