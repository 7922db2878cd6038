import { describe, expect, it } from 'vitest';
import type { JournalEntry } from '../store/index.js';
import { readVerifyRequest, verifyJournal } from './verify.js';

const sha = 'a'.repeat(64);
function entry(seq: number, over: Partial<JournalEntry> = {}, crop?: string): JournalEntry {
  return {
    seq,
    time: `2026-12-05T10:00:0${seq}.000Z`,
    method: 'POST',
    path: '/beia-api/v1/image',
    status: 200,
    durationMs: 5,
    licenseId: 'L',
    parts: [
      { name: 'image', kind: 'file', size: 10, sha256: sha },
      ...(crop === undefined ? [] : [{ name: 'includeCroppedImage', kind: 'field' as const, size: crop.length, value: crop }]),
    ],
    ...over,
  };
}

describe('readVerifyRequest', () => {
  it('reads a pattern and one count', () => {
    expect(readVerifyRequest({ pattern: { licenseId: 'L', status: 200, imageSha256: sha.toUpperCase() }, count: { exactly: 2 } })).toEqual({
      pattern: { licenseId: 'L', status: 200, imageSha256: sha },
      count: { exactly: 2 },
    });
    expect(readVerifyRequest({ count: { never: true } })).toEqual({ pattern: {}, count: { never: true } });
  });

  it.each([
    [{ pattern: { licence: 'L' }, count: { exactly: 1 } }, /body\.pattern.*licence/],
    [{ pattern: {}, count: { exactly: 1, atLeast: 2 } }, /body\.count: expected exactly one of exactly, atLeast, atMost, never/],
    [{ pattern: {}, count: {} }, /body\.count: expected exactly one of/],
    [{ pattern: {}, count: { never: false } }, /body\.count\.never: expected true/],
    [{ pattern: { imageSha256: 'abc' }, count: { never: true } }, /body\.pattern\.imageSha256: expected the sha256 of the image/],
    [{ pattern: { since: 'yesterday' }, count: { never: true } }, /body\.pattern\.since: expected a time in ISO 8601/],
    [{ pattern: { status: 700 }, count: { never: true } }, /body\.pattern\.status: expected an integer from 100 to 599/],
    [{ pattern: {}, count: { atMost: -1 } }, /body\.count\.atMost/],
  ])('refuses %j, naming the field', (body, message) => {
    expect(() => readVerifyRequest(body)).toThrow(message);
  });
});

describe('verifyJournal', () => {
  const journal = [entry(1), entry(2, { status: 402, code: 'no_credits' }), entry(3, {}, 'true'), entry(4, { licenseId: 'M' }, 'TRUE')];

  it('counts matches under each kind of count', () => {
    expect(verifyJournal(journal, { licenseId: 'L', status: 200 }, { exactly: 2 })).toMatchObject({ ok: true, count: 2, expected: 'exactly 2' });
    expect(verifyJournal(journal, { includeCroppedImage: true }, { atLeast: 2 })).toMatchObject({ ok: true, count: 2 });
    expect(verifyJournal(journal, { includeCroppedImage: false }, { atMost: 1 })).toMatchObject({ ok: false, count: 2, expected: 'at most 1' });
    expect(verifyJournal(journal, { code: 'no_credits' }, { never: true })).toMatchObject({ ok: false, count: 1, expected: 'never' });
    expect(verifyJournal(journal, { imageSha256: sha, since: '2026-12-05T10:00:02Z', until: '2026-12-05T10:00:04Z' }, { exactly: 2 })).toMatchObject({
      ok: true,
    });
  });

  it('gives the nearest misses first, each with the fields that differed', () => {
    const result = verifyJournal(journal, { licenseId: 'L', status: 200, includeCroppedImage: true }, { exactly: 2 });
    expect(result).toMatchObject({ ok: false, count: 1 });
    expect(result.nearMisses.map((miss) => miss.entry.seq)).toEqual([4, 1, 2]);
    expect(result.nearMisses[0]!.differences).toEqual([{ field: 'licenseId', expected: 'L', actual: 'M' }]);
    expect(result.nearMisses[2]!.differences.map((d) => d.field)).toEqual(['status', 'includeCroppedImage']);
  });
});
