import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../config/index.js';
import { boundEntry, cutText, CUT_MARK, DEFAULT_MAX_JOURNAL_BYTES, JOURNAL_TEXT_LIMIT, journalEntryBytes } from './journal-bounds.js';
import type { JournalEntry } from './types.js';

describe('cutText', () => {
  it('keeps a value of at most 256 characters, and cuts a longer one to 256 plus the mark', () => {
    expect(cutText('')).toBe('');
    expect(cutText('x'.repeat(256))).toBe('x'.repeat(256));
    expect(cutText('x'.repeat(257))).toBe(`${'x'.repeat(256)}${CUT_MARK}`);
    expect(cutText('y'.repeat(7 * 1024))).toHaveLength(JOURNAL_TEXT_LIMIT + CUT_MARK.length);
  });

  it('never leaves half a surrogate pair', () => {
    const cut = cutText(`${'x'.repeat(255)}${'😀'.repeat(10)}`);
    expect(cut).toBe(`${'x'.repeat(255)}${CUT_MARK}`);
  });
});

describe('boundEntry', () => {
  const long = (c: string, n: number) => c.repeat(n);

  it('cuts every free-text value a client controls and keeps the rest', () => {
    const entry: Omit<JournalEntry, 'seq'> = {
      time: '2025-01-01T00:00:00.000Z',
      method: 'POST',
      path: `/${long('p', 9000)}`,
      status: 400,
      code: 'invalid_field',
      licenseId: long('L', 9000),
      remoteAddress: '127.0.0.1',
      durationMs: 3,
      scenario: 'reset',
      parts: [
        { name: long('n', 7 * 1024), kind: 'file', size: 5, filename: long('f', 8 * 1024), contentType: `image/${long('t', 2000)}`, sha256: 'a'.repeat(64) },
        { name: 'licenseId', kind: 'field', size: 4, value: '1234', sha256: 'b'.repeat(64) },
      ],
      responseHeaders: { 'content-type': 'application/json', 'x-long': long('h', 5000) },
    };
    const bounded = boundEntry(entry);
    expect(bounded.path).toBe(cutText(entry.path));
    expect(bounded.licenseId).toBe(`${long('L', 256)}${CUT_MARK}`);
    expect(bounded.parts[0]).toEqual({
      name: `${long('n', 256)}${CUT_MARK}`,
      kind: 'file',
      size: 5,
      filename: `${long('f', 256)}${CUT_MARK}`,
      contentType: `${`image/${long('t', 250)}`}${CUT_MARK}`,
      sha256: 'a'.repeat(64),
    });
    expect(bounded.parts[1]).toEqual(entry.parts[1]);
    expect(bounded.responseHeaders).toEqual({ 'content-type': 'application/json', 'x-long': `${long('h', 256)}${CUT_MARK}` });
    expect({ ...bounded, path: entry.path, licenseId: entry.licenseId, parts: entry.parts, responseHeaders: entry.responseHeaders }).toEqual(entry);
    // A pure function: the entry given is not changed.
    expect(entry.parts[0]!.name).toHaveLength(7 * 1024);
    expect(journalEntryBytes({ seq: 1, ...bounded })).toBeLessThan(3000);
  });

  it('bounds a log line the same way, adding no field it did not have', () => {
    const line = { time: 't', level: 'info' as const, msg: 'request' as const, method: 'GET', path: long('/', 300), status: 404, durationMs: 0 };
    expect(boundEntry(line)).toEqual({ ...line, path: `${long('/', 256)}${CUT_MARK}` });
  });
});

describe('journalEntryBytes', () => {
  it('is the byte length of the JSON, as listed', () => {
    const entry: JournalEntry = { seq: 1, time: '', method: 'POST', path: '/é', status: 200, durationMs: 0, parts: [] };
    expect(journalEntryBytes(entry)).toBe(Buffer.byteLength(JSON.stringify(entry)));
    expect(journalEntryBytes(entry)).toBe(JSON.stringify(entry).length + 1);
  });

  it("bounds a store made without maxJournalBytes as the config's default does", () => {
    expect(DEFAULT_MAX_JOURNAL_BYTES).toBe(DEFAULT_CONFIG.journal.maxBytes);
  });
});
