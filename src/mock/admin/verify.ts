import { FIELD } from '../../contract/index.js';
import { ConfigError } from '../config/index.js';
import { readBoolean, readInt, readObject, readString } from '../config/reader.js';
import type { JournalEntry } from '../store/index.js';
import { readIncludeCropped } from '../pipeline/include-cropped.js';

/** Which journal entries a verification counts; every field given must match. */
export interface CallPattern {
  licenseId?: string;
  status?: number;
  /** The error code of the answer, e.g. `no_credits`. */
  code?: string;
  path?: string;
  /** Whether the request asked for the cropped image (`includeCroppedImage` true or 1). */
  includeCroppedImage?: boolean;
  /** The sha256 of the `image` part, in hex. */
  imageSha256?: string;
  /** Only requests at or after this time (ISO 8601). */
  since?: string;
  /** Only requests before this time (ISO 8601). */
  until?: string;
}

/** How many matches are right: exactly one of these. */
export type CallCount = { exactly: number } | { atLeast: number } | { atMost: number } | { never: true };

export interface NearMiss {
  entry: JournalEntry;
  /** The fields of the pattern this entry did not match, with what it had instead. */
  differences: { field: keyof CallPattern; expected: unknown; actual: unknown }[];
}

export interface VerifyResult {
  ok: boolean;
  /** Journal entries that matched the pattern. */
  count: number;
  /** What was expected, in words: "exactly 2", "at least 1", "never". */
  expected: string;
  /** Up to 3 entries that matched all but the fewest fields, closest first (when a pattern field was given). */
  nearMisses: NearMiss[];
}

const PATTERN_KEYS = ['licenseId', 'status', 'code', 'path', 'includeCroppedImage', 'imageSha256', 'since', 'until'] as const;
const COUNT_KEYS = ['exactly', 'atLeast', 'atMost', 'never'] as const;

/** Reads `{pattern: {...}, count: {exactly|atLeast|atMost|never}}`; a 400 names any field it refuses. */
export function readVerifyRequest(body: unknown): { pattern: CallPattern; count: CallCount } {
  const raw = readObject(body, 'body', ['pattern', 'count']);
  const rawPattern = readObject(raw.pattern ?? {}, 'body.pattern', [...PATTERN_KEYS]);
  const pattern: CallPattern = {};
  if (rawPattern.licenseId !== undefined) pattern.licenseId = readString(rawPattern.licenseId, 'body.pattern.licenseId');
  if (rawPattern.status !== undefined) pattern.status = readInt(rawPattern.status, 'body.pattern.status', 100, 599);
  if (rawPattern.code !== undefined) pattern.code = readString(rawPattern.code, 'body.pattern.code');
  if (rawPattern.path !== undefined) pattern.path = readString(rawPattern.path, 'body.pattern.path');
  if (rawPattern.includeCroppedImage !== undefined)
    pattern.includeCroppedImage = readBoolean(rawPattern.includeCroppedImage, 'body.pattern.includeCroppedImage');
  if (rawPattern.imageSha256 !== undefined) {
    const sha = readString(rawPattern.imageSha256, 'body.pattern.imageSha256').toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(sha)) throw new ConfigError('body.pattern.imageSha256', 'the sha256 of the image, 64 hex digits', rawPattern.imageSha256);
    pattern.imageSha256 = sha;
  }
  for (const key of ['since', 'until'] as const) {
    if (rawPattern[key] === undefined) continue;
    const text = readString(rawPattern[key], `body.pattern.${key}`);
    if (Number.isNaN(Date.parse(text))) throw new ConfigError(`body.pattern.${key}`, 'a time in ISO 8601, e.g. "2026-12-05T10:00:00Z"', text);
    pattern[key] = text;
  }

  const rawCount = readObject(raw.count, 'body.count', [...COUNT_KEYS]);
  const given = COUNT_KEYS.filter((key) => rawCount[key] !== undefined);
  if (given.length !== 1) {
    throw new ConfigError('body.count', `exactly one of ${COUNT_KEYS.join(', ')} (e.g. {"exactly": 2})`, given.length === 0 ? rawCount : given.join(' and '));
  }
  const key = given[0]!;
  let count: CallCount;
  if (key === 'never') {
    if (rawCount.never !== true) throw new ConfigError('body.count.never', 'true', rawCount.never);
    count = { never: true };
  } else {
    const n = readInt(rawCount[key], `body.count.${key}`, 0, 1_000_000_000);
    count = key === 'exactly' ? { exactly: n } : key === 'atLeast' ? { atLeast: n } : { atMost: n };
  }
  return { pattern, count };
}

/** Counts the entries that match `pattern` and says whether `count` holds, with the nearest misses. */
export function verifyJournal(entries: readonly JournalEntry[], pattern: CallPattern, count: CallCount, rules: BooleanRules = STRICT): VerifyResult {
  const fields = PATTERN_KEYS.filter((key) => pattern[key] !== undefined);
  const misses: NearMiss[] = [];
  let matched = 0;
  for (const entry of entries) {
    const differences = fields.flatMap((field) => {
      const actual = actualOf(entry, field, rules);
      return matches(field, pattern[field], actual) ? [] : [{ field, expected: pattern[field], actual }];
    });
    if (differences.length === 0) matched += 1;
    else misses.push({ entry, differences });
  }
  const ok =
    'exactly' in count
      ? matched === count.exactly
      : 'atLeast' in count
        ? matched >= count.atLeast
        : 'atMost' in count
          ? matched <= count.atMost
          : matched === 0;
  const expected =
    'exactly' in count
      ? `exactly ${count.exactly}`
      : 'atLeast' in count
        ? `at least ${count.atLeast}`
        : 'atMost' in count
          ? `at most ${count.atMost}`
          : 'never';
  // Closest first: fewest differences, then the newest.
  const nearMisses = misses
    .map((miss, index) => ({ miss, index }))
    .sort((a, b) => a.miss.differences.length - b.miss.differences.length || b.index - a.index)
    .slice(0, 3)
    .map(({ miss }) => miss);
  return { ok, count: matched, expected, nearMisses };
}

/** How the mock reads a boolean field (`rules.strictBooleans`, `rules.lenientBooleans`): verify reads `includeCroppedImage` as the image route did. */
type BooleanRules = { strictBooleans: boolean; lenientBooleans?: boolean };
const STRICT: BooleanRules = { strictBooleans: true };

function actualOf(entry: JournalEntry, field: keyof CallPattern, rules: BooleanRules): unknown {
  switch (field) {
    case 'licenseId':
      return entry.licenseId;
    case 'status':
      return entry.status;
    case 'code':
      return entry.code;
    case 'path':
      return entry.path;
    case 'includeCroppedImage': {
      const value = entry.parts.find((part) => part.name === FIELD.includeCroppedImage && part.kind === 'field')?.value;
      try {
        return readIncludeCropped(value, rules);
      } catch {
        return false; // a value the mock refused (400): no cropped image was asked for
      }
    }
    case 'imageSha256':
      return entry.parts.find((part) => part.name === FIELD.image && part.kind === 'file')?.sha256;
    case 'since':
    case 'until':
      return entry.time;
  }
}

function matches(field: keyof CallPattern, expected: unknown, actual: unknown): boolean {
  if (field === 'since') return Date.parse(String(actual)) >= Date.parse(String(expected));
  if (field === 'until') return Date.parse(String(actual)) < Date.parse(String(expected));
  return actual === expected;
}
