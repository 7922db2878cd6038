import type { JournalEntry, JournalPart } from './types.js';

/** The most characters (UTF-16 code units) of one free-text value a journal entry or a log line keeps. */
export const JOURNAL_TEXT_LIMIT = 256;
/** What a cut value ends with: a cut value is at most `JOURNAL_TEXT_LIMIT + CUT_MARK.length` (262) characters. */
export const CUT_MARK = '…[cut]';

/**
 * A value of at most {@link JOURNAL_TEXT_LIMIT} characters as it is; a longer one cut to that many
 * (one fewer rather than half a surrogate pair), with {@link CUT_MARK} at the end.
 *
 * @example
 * ```ts
 * cutText('x'.repeat(7000)); // 'xxx…x…[cut]', 256 x's
 * ```
 */
export function cutText(value: string): string {
  if (value.length <= JOURNAL_TEXT_LIMIT) return value;
  const end = isHighSurrogate(value.charCodeAt(JOURNAL_TEXT_LIMIT - 1)) ? JOURNAL_TEXT_LIMIT - 1 : JOURNAL_TEXT_LIMIT;
  return value.slice(0, end) + CUT_MARK;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** The free-text fields of a journal entry that a client controls (the log line shares the ones it has). */
export interface EntryText {
  method?: string;
  path?: string;
  licenseId?: string;
  code?: string;
  scenario?: string;
  remoteAddress?: string;
  parts?: JournalPart[];
  responseHeaders?: Record<string, string>;
}

const TEXT_KEYS = ['method', 'path', 'licenseId', 'code', 'scenario', 'remoteAddress'] as const satisfies readonly (keyof EntryText)[];

/**
 * A copy of a journal entry (or a log line, or any part of either) with every free-text value cut
 * by {@link cutText}: method, path, license id, code, scenario, address; each part's name,
 * filename, content type and value; each response header's value. Numbers, flags and hashes are
 * kept as they are. The mock applies it once, where the entry and the log line are built.
 *
 * @example
 * ```ts
 * boundEntry({ path: '/beia-api/v1/image', parts: [{ name: 'n'.repeat(7000), kind: 'field', size: 1 }] });
 * // { path: '/beia-api/v1/image', parts: [{ name: 'nnn…n…[cut]', kind: 'field', size: 1 }] }
 * ```
 */
export function boundEntry<T extends EntryText>(entry: T): T {
  const bounded: T = { ...entry };
  for (const key of TEXT_KEYS) {
    const value = entry[key];
    if (value !== undefined) bounded[key] = cutText(value);
  }
  if (entry.parts) bounded.parts = entry.parts.map(boundPart);
  if (entry.responseHeaders) {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(entry.responseHeaders)) headers[name] = cutText(value);
    bounded.responseHeaders = headers;
  }
  return bounded;
}

function boundPart(part: JournalPart): JournalPart {
  const bounded: JournalPart = { ...part, name: cutText(part.name) };
  if (part.filename !== undefined) bounded.filename = cutText(part.filename);
  if (part.contentType !== undefined) bounded.contentType = cutText(part.contentType);
  if (part.value !== undefined) bounded.value = cutText(part.value);
  return bounded;
}

/** The journal's bounds, for every store (`journal.maxEntries` and `journal.maxBytes`). */
export interface JournalBounds {
  /** The journal keeps the newest this many entries; `0`: none. */
  maxJournalEntries: number;
  /**
   * ...and drops the oldest while their JSON ({@link journalEntryBytes}) adds up to more than this;
   * the newest entry is always kept, even when it alone is larger. 8 MiB when absent.
   */
  maxJournalBytes?: number;
}

/** The default of `maxJournalBytes`, the same as `journal.maxBytes`'s. */
export const DEFAULT_MAX_JOURNAL_BYTES = 8 * 1024 * 1024;

/** What a journal entry counts for against `journal.maxBytes`: the bytes of its JSON, as `GET /__admin/journal` lists it. */
export function journalEntryBytes(entry: JournalEntry): number {
  return Buffer.byteLength(JSON.stringify(entry));
}
