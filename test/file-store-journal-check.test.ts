import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FileStore } from '../src/mock/store/file-store.js';
import { journalEntryProblem } from '../src/mock/store/journal-entry-check.js';

// Issue 21: the journal file is read back with a check, not a cast. A line edited by hand or
// written by another program is left out with one warning that names it; the rest comes back.

const seed = [{ licenseId: 'L', apiKey: 'k', credits: 5, allowedIps: ['127.0.0.1'], maxConcurrent: 2 }];
let dir: string;
let path: string;
const opened: FileStore[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'beia-journal-check-'));
  path = join(dir, 'state.json');
});
afterEach(async () => {
  vi.restoreAllMocks();
  for (const store of opened.splice(0)) await store.close().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

const good = (seq: number) => ({ seq, time: '2026-12-06T05:00:00.000Z', method: 'POST', path: '/beia-api/v1/image', status: 200, durationMs: 3, parts: [] });

/** A store file and a journal file holding `journal`, as a mock of this version writes them. */
async function withJournal(journal: unknown[], nextSeq: number): Promise<void> {
  const store = await FileStore.open(path, { seed, maxJournalEntries: 100 });
  await store.close();
  writeFileSync(`${path}.journal`, `${JSON.stringify({ format: 'beia-kit mock journal', version: 1, nextSeq, journal })}\n`);
}

async function open(): Promise<{ store: FileStore; warnings: string[] }> {
  const warnings: string[] = [];
  vi.spyOn(console, 'error').mockImplementation((message: unknown) => void warnings.push(String(message)));
  const store = await FileStore.open(path, { seed, maxJournalEntries: 100 });
  opened.push(store);
  return { store, warnings };
}

describe("the file store's journal, read back", () => {
  it('comes back whole, without a warning, when every entry is one', async () => {
    await withJournal([good(1), { ...good(2), status: 402, code: 'no_credits', licenseId: 'L', cacheHit: false }], 3);
    const { store, warnings } = await open();
    expect((await store.listJournal()).map((entry) => entry.seq)).toEqual([1, 2]);
    expect(warnings).toEqual([]);
  });

  it('leaves out the entries that are not journal entries, with one warning naming each, and keeps the rest', async () => {
    await withJournal(
      [
        good(1),
        'a line someone typed',
        { ...good(3), status: '200' },
        { ...good(4), parts: [{ name: 'image', kind: 'blob', size: 1 }] },
        good(5),
        { ...good(5), path: '/again' },
        good(9),
      ],
      7,
    );
    const { store, warnings } = await open();
    expect((await store.listJournal()).map((entry) => entry.seq)).toEqual([1, 5]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`the journal file ${path}.journal has 5 entries that this mock cannot read`);
    expect(warnings[0]).toContain('journal[1]: it is not an object');
    expect(warnings[0]).toContain('journal[2]: "status" is not an HTTP status (100 to 599)');
    expect(warnings[0]).toContain('journal[3]: "parts[0]" has "kind" "blob", not "field" or "file"');
    expect(warnings[0]).toContain('To keep them, stop the mock and move the file away first.');
    // The numbering goes on from the file's, never giving a seq twice.
    await store.appendJournal({ time: '2026-12-06T05:00:01.000Z', method: 'POST', path: '/', status: 200, durationMs: 1, parts: [] });
    expect((await store.listJournal()).map((entry) => entry.seq)).toEqual([1, 5, 7]);
    await store.close();
    const onFile = JSON.parse(readFileSync(`${path}.journal`, 'utf8')) as { journal: { seq: number }[] };
    expect(onFile.journal.map((entry) => entry.seq)).toEqual([1, 5, 7]);
  });

  it('still refuses a file that is not a journal at all, naming it', async () => {
    const store = await FileStore.open(path, { seed, maxJournalEntries: 100 });
    await store.close();
    writeFileSync(`${path}.journal`, '{"format": "beia-kit mock journal", "journal": {}}');
    await expect(FileStore.open(path, { seed, maxJournalEntries: 100 })).rejects.toThrow(`The journal file ${path}.journal is not a beia-kit mock journal`);
  });
});

describe('journalEntryProblem', () => {
  it('accepts an entry as the mock writes it, and fields of a newer version', () => {
    expect(journalEntryProblem({ ...good(1), parts: [{ name: 'image', kind: 'file', size: 10, sha256: 'ab' }], answerLost: true, later: 1 })).toBeUndefined();
  });

  it.each([
    [null, 'it is not an object'],
    [{ ...good(1), seq: 0 }, '"seq" is not a whole number of at least 1'],
    [{ ...good(1), method: '' }, '"method" is not a non-empty string'],
    [{ ...good(1), status: 99 }, '"status" is not an HTTP status'],
    [{ ...good(1), durationMs: -1 }, '"durationMs" is not a number of at least 0'],
    [{ ...good(1), parts: {} }, '"parts" is not a list'],
    [{ ...good(1), parts: [{ name: 'image', kind: 'file', size: 1, sha256: 5 }] }, '"parts[0]" has a "sha256" that is not a string'],
    [{ ...good(1), licenseId: 7 }, '"licenseId" is not a string'],
    [{ ...good(1), charged: false }, '"charged" is not true'],
    [{ ...good(1), cacheHit: 'yes' }, '"cacheHit" is not true or false'],
    [{ ...good(1), responseHeaders: { a: 1 } }, '"responseHeaders" is not an object of strings'],
  ])('names what is wrong in %j', (entry, problem) => {
    expect(journalEntryProblem(entry)).toContain(problem);
  });
});
