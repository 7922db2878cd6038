import type { JournalEntry } from './types.js';

/**
 * Hand checks of JSON that claims to be journal entries: read back from the file store's journal
 * file, or answered by a mock's admin API. No dependency, so the admin client stays light.
 */

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const wholeAtLeast = (value: unknown, min: number): boolean => Number.isSafeInteger(value) && (value as number) >= min;
const OPTIONAL_STRINGS = ['code', 'licenseId', 'remoteAddress', 'scenario', 'fault'] as const;
const OPTIONAL_TRUE = ['charged', 'answerLost', 'retryTooEarly', 'replayed', 'recorded'] as const;

/** What is wrong with one part of an entry (`parts[i]`), or undefined when it is one. */
function partProblem(part: unknown): string | undefined {
  if (!isObject(part)) return 'is not an object';
  if (typeof part.name !== 'string') return 'has no "name" string';
  if (part.kind !== 'field' && part.kind !== 'file') return `has "kind" ${JSON.stringify(part.kind)}, not "field" or "file"`;
  if (!wholeAtLeast(part.size, 0)) return 'has no "size" of at least 0';
  for (const key of ['contentType', 'filename', 'sha256', 'value'] as const) {
    if (part[key] !== undefined && typeof part[key] !== 'string') return `has a "${key}" that is not a string`;
  }
  return undefined;
}

/**
 * What is wrong with `value` as a {@link JournalEntry}, in words (`status is not an HTTP status`),
 * or undefined when it is one. Fields this version does not know are let through (a newer mock's).
 */
export function journalEntryProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'it is not an object';
  if (!wholeAtLeast(value.seq, 1)) return '"seq" is not a whole number of at least 1';
  if (typeof value.time !== 'string') return '"time" is not a string';
  if (typeof value.method !== 'string' || value.method === '') return '"method" is not a non-empty string';
  if (typeof value.path !== 'string') return '"path" is not a string';
  if (!Number.isSafeInteger(value.status) || (value.status as number) < 100 || (value.status as number) > 599)
    return '"status" is not an HTTP status (100 to 599)';
  if (typeof value.durationMs !== 'number' || !(value.durationMs >= 0)) return '"durationMs" is not a number of at least 0';
  if (!Array.isArray(value.parts)) return '"parts" is not a list';
  for (const [index, part] of value.parts.entries()) {
    const problem = partProblem(part);
    if (problem) return `"parts[${index}]" ${problem}`;
  }
  for (const key of OPTIONAL_STRINGS) if (value[key] !== undefined && typeof value[key] !== 'string') return `"${key}" is not a string`;
  for (const key of OPTIONAL_TRUE) if (value[key] !== undefined && value[key] !== true) return `"${key}" is not true`;
  for (const key of ['creditsRemaining', 'earlyByMs'] as const) {
    if (value[key] !== undefined && typeof value[key] !== 'number') return `"${key}" is not a number`;
  }
  if (value.cacheHit !== undefined && typeof value.cacheHit !== 'boolean') return '"cacheHit" is not true or false';
  const headers = value.responseHeaders;
  if (headers !== undefined && (!isObject(headers) || Object.values(headers).some((header) => typeof header !== 'string'))) {
    return '"responseHeaders" is not an object of strings';
  }
  return undefined;
}

/** Whether `value` is a {@link JournalEntry} (see {@link journalEntryProblem}). */
export function isJournalEntry(value: unknown): value is JournalEntry {
  return journalEntryProblem(value) === undefined;
}
