import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStore } from './file-store.js';
import { StoreError } from './store-error.js';

const seed = [{ licenseId: 'L', apiKey: 'k', credits: 5, allowedIps: ['127.0.0.1'], maxConcurrent: 2 }];
let dir: string;
let path: string;
const open: FileStore[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'beia-file-store-'));
  path = join(dir, 'state.json');
});
afterEach(async () => {
  for (const store of open.splice(0)) await store.close().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

async function openStore(options: Partial<Parameters<typeof FileStore.open>[1]> = {}): Promise<FileStore> {
  const store = await FileStore.open(path, { seed, maxJournalEntries: 100, ...options });
  open.push(store);
  return store;
}

function onDisk(): { licenses: { licenseId: string; credits: number }[]; faults: unknown[] } {
  return JSON.parse(readFileSync(path, 'utf8')) as ReturnType<typeof onDisk>;
}

async function spend(store: FileStore, licenseId = 'L') {
  const admitted = await store.admit(licenseId, 10);
  if (!admitted.ok) throw new Error(`not admitted: ${admitted.reason}`);
  return store.settle(admitted.ticket, true);
}

describe('FileStore', () => {
  it('has a spent credit on disk by the time settle resolves', async () => {
    const store = await openStore();
    expect(store.loaded).toBe(false);
    expect(await spend(store)).toEqual({ spent: true, credits: 4 });
    expect(onDisk().licenses.find((l) => l.licenseId === 'L')?.credits).toBe(4);
  });

  it('comes back after a restart with credits, licenses, journal and faults, and the config no longer seeds it', async () => {
    const first = await openStore();
    await spend(first);
    await spend(first);
    await first.putLicense({ licenseId: 'T', apiKey: 't', credits: 9, allowedIps: ['::1'], maxConcurrent: 1, expiresAt: '2999-01-01T00:00:00.000Z' });
    await first.armFault({ type: 'error', count: 2 });
    await first.takeFault('L', 0.5);
    await first.appendJournal({ time: 't', method: 'POST', path: '/', status: 200, durationMs: 1, parts: [], licenseId: 'L' });
    await first.close();
    expect(existsSync(`${path}.lock`)).toBe(false);

    const second = await openStore({ seed: [{ ...seed[0]!, credits: 1000 }] });
    expect(second.loaded).toBe(true);
    expect((await second.getLicense('L'))?.credits).toBe(3);
    expect(await second.getLicense('T')).toMatchObject({ credits: 9, expiresAt: '2999-01-01T00:00:00.000Z', inFlight: 0 });
    expect(await second.listFaults()).toMatchObject([{ type: 'error', count: 1, fired: 1 }]);
    expect((await second.listJournal()).map((e) => e.seq)).toEqual([1]);
    await second.appendJournal({ time: 't', method: 'POST', path: '/', status: 402, durationMs: 1, parts: [] });
    expect((await second.listJournal()).map((e) => e.seq)).toEqual([1, 2]);
  });

  it('writes journal entries soon after, without being asked', async () => {
    const store = await openStore();
    await store.appendJournal({ time: 't', method: 'POST', path: '/', status: 200, durationMs: 1, parts: [] });
    await new Promise((resolve) => setTimeout(resolve, 400));
    const journal = JSON.parse(readFileSync(`${path}.journal`, 'utf8')) as { journal: unknown[] };
    expect(journal.journal).toHaveLength(1);
    expect(onDisk()).not.toHaveProperty('journal'); // the state file stays small
  });

  it('refuses a journal file that is not one, naming it', async () => {
    await (await openStore()).close();
    writeFileSync(`${path}.journal`, '{"format": "something else"}');
    await expect(FileStore.open(path, { seed, maxJournalEntries: 10 })).rejects.toThrow(`The journal file ${path}.journal is not a beia-kit mock journal`);
  });

  it('reseeds from the config with reset', async () => {
    const first = await openStore();
    await spend(first);
    await first.close();
    const second = await openStore({ reset: true });
    expect(second.loaded).toBe(false);
    expect((await second.getLicense('L'))?.credits).toBe(5);
  });

  it('refuses a file it cannot read, naming it and what is wrong, and leaves it as it was', async () => {
    const cases: [string, RegExp][] = [
      ['{"credits": 4', /is not valid JSON/],
      ['{"licenses": []}', /is not a beia-kit mock store/],
      ['{"format": "beia-kit mock store", "version": 7}', /has version 7; this beia-kit reads version 1/],
      [
        '{"format": "beia-kit mock store", "version": 1, "licenses": [{"licenseId": "L", "apiKey": "k", "credits": -3, "allowedIps": [], "maxConcurrent": 1}], "journal": [], "faults": [], "nextSeq": 1, "nextFault": 1}',
        /bad license at licenses\[0\]: credits/,
      ],
    ];
    for (const [text, message] of cases) {
      writeFileSync(path, text);
      const error = await FileStore.open(path, { seed, maxJournalEntries: 10 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toContain(path);
      expect((error as Error).message).toMatch(/--reset-store/);
      expect(readFileSync(path, 'utf8')).toBe(text);
      expect(existsSync(`${path}.lock`)).toBe(false);
    }
  });

  it('refuses a second process on the same file, and takes over the lock of one that died', async () => {
    const first = await openStore();
    const twice = await FileStore.open(path, { seed, maxJournalEntries: 10 }).catch((e: unknown) => e);
    expect((twice as Error).message).toMatch(/in use by another beia mock/);
    await first.close();

    // Our own pid on a lock this process did not take: a previous process with the same pid.
    writeFileSync(`${path}.lock`, `${process.pid}\n`);
    await (await openStore()).close();

    // Another live process: our parent.
    writeFileSync(`${path}.lock`, `${process.ppid}\n`);
    const refused = await FileStore.open(path, { seed, maxJournalEntries: 10 }).catch((e: unknown) => e);
    expect((refused as Error).message).toMatch(new RegExp(`in use by another beia mock \\(pid ${process.ppid}.*Redis`));

    writeFileSync(`${path}.lock`, '2147483646\n'); // no such process
    await openStore();
    expect(readFileSync(`${path}.lock`, 'utf8').trim()).toBe(String(process.pid));
  });

  it('spends nothing it could not write: settle fails with a StoreError and the credit is back', async () => {
    const store = await openStore();
    rmSync(dir, { recursive: true, force: true }); // the directory is gone: every write fails
    const admitted = await store.admit('L', 10);
    if (!admitted.ok) throw new Error('expected an admission');
    await expect(store.settle(admitted.ticket, true)).rejects.toThrow(/Failed to write the file store .*Nothing was spent/);
    expect((await store.getLicense('L'))?.credits).toBe(5);
    expect(await store.inFlight()).toBe(0);
  });
});
