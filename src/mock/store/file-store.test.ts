import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStore } from './file-store.js';
import { LOCK_STALE_MS } from './file-lock.js';
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
    await first.takeFault('L');
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

  it('writes a journal file bounded by maxJournalBytes, and bounds a larger one it finds by the bound it has now', async () => {
    const entry = { time: 't', method: 'POST', path: `/${'x'.repeat(900)}`, status: 200, durationMs: 1, parts: [] };
    const first = await openStore({ maxJournalBytes: 64 * 1024 });
    for (let i = 0; i < 40; i++) await first.appendJournal(entry);
    await first.close();
    const fileBytes = () => readFileSync(`${path}.journal`).length;
    // The entries' JSON plus the file's own few bytes: the format, the counter, a comma between entries.
    const overhead = (entries: number) => 100 + entries;
    expect(fileBytes()).toBeGreaterThan(40 * 900);

    const second = await openStore({ maxJournalBytes: 4096 });
    const kept = await second.listJournal();
    expect(kept.map((e) => e.seq)).toEqual([37, 38, 39, 40]);
    await second.appendJournal(entry);
    await second.close();
    expect(fileBytes()).toBeLessThanOrEqual(4096 + overhead(4));
    const onFile = JSON.parse(readFileSync(`${path}.journal`, 'utf8')) as { journal: { seq: number }[] };
    expect(onFile.journal.map((e) => e.seq)).toEqual([38, 39, 40, 41]);
  });

  it('refuses a journal file that is not one, naming it', async () => {
    await (await openStore()).close();
    writeFileSync(`${path}.journal`, '{"format": "something else"}');
    await expect(FileStore.open(path, { seed, maxJournalEntries: 10 })).rejects.toThrow(`The journal file ${path}.journal is not a beia-kit mock journal`);
  });

  it("writes nothing once closed: a late request cannot touch the next holder's files", async () => {
    const store = await openStore();
    await store.close();
    const before = readFileSync(`${path}.journal`, 'utf8');
    await store.appendJournal({ time: 't', method: 'POST', path: '/', status: 200, durationMs: 1, parts: [] });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(readFileSync(`${path}.journal`, 'utf8')).toBe(before);
    expect(readdirSync(dir).sort()).toEqual(['state.json', 'state.json.journal']);
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

  it('refuses a second opener of the same file while the holder lives, wherever it runs', async () => {
    const first = await openStore();
    const twice = await FileStore.open(path, { seed, maxJournalEntries: 10 }).catch((e: unknown) => e);
    expect((twice as Error).message).toMatch(/in use by another beia mock \(this process/);
    await first.close();
    expect(existsSync(`${path}.lock`)).toBe(false);

    // A live process here, in our pid namespace (our parent): refused at once.
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: process.ppid, host: hostname(), pidns: readlinkSync('/proc/self/ns/pid'), token: 't' }));
    let started = Date.now();
    let refused = await FileStore.open(path, { seed, maxJournalEntries: 10 }).catch((e: unknown) => e);
    expect((refused as Error).message).toMatch(new RegExp(`in use by another beia mock \\(pid ${process.ppid} on ${hostname()}.*Redis store`));
    expect(Date.now() - started).toBeLessThan(1_000);

    // A holder whose pid means nothing here (another host, or a container on the same volume with
    // the same host name and pids of its own) is judged by its heartbeat: it touches the lock, so it holds it.
    for (const holder of [
      { pid: 1, host: 'another-container' },
      { pid: 2147483646, host: hostname(), pidns: 'pid:[1]' },
      { pid: process.ppid, host: hostname(), pidns: 'pid:[1]' },
    ]) {
      writeFileSync(`${path}.lock`, JSON.stringify({ ...holder, token: 't' }));
      const heartbeat = setInterval(() => utimesSync(`${path}.lock`, new Date(), new Date()), 500);
      started = Date.now();
      refused = await FileStore.open(path, { seed, maxJournalEntries: 10 })
        .catch((e: unknown) => e)
        .finally(() => clearInterval(heartbeat));
      expect((refused as Error).message).toMatch(new RegExp(`in use by another beia mock \\(pid ${holder.pid} on ${holder.host}`));
      expect(Date.now() - started).toBeLessThan(LOCK_STALE_MS);
    }
    // Garbage that is being touched is held too.
    writeFileSync(`${path}.lock`, 'half a lo');
    const heartbeat = setInterval(() => utimesSync(`${path}.lock`, new Date(), new Date()), 500);
    await expect(FileStore.open(path, { seed, maxJournalEntries: 10 }).finally(() => clearInterval(heartbeat))).rejects.toThrow(/a process that left no name/);
  }, 20_000);

  it('takes over a lock nobody touches any more, and one left here by a process that died', async () => {
    const aged = (ms: number) => {
      const then = new Date(Date.now() - ms);
      utimesSync(`${path}.lock`, then, then);
    };
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: 1, host: 'another-container', token: 't' }));
    aged(LOCK_STALE_MS + 1000);
    await (await openStore()).close();

    // Another namespace, its pid alive here by chance, touched a moment ago and then never again
    // (a container killed with SIGKILL): taken over once stale, not refused.
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: process.ppid, host: hostname(), pidns: 'pid:[1]', token: 't' }));
    aged(LOCK_STALE_MS - 600);
    let started = Date.now();
    let store = await openStore();
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    await store.close();

    // Here, in our namespace, dead (a SIGKILL a moment ago): taken at once, without waiting for it to go stale.
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: 2147483646, host: hostname(), pidns: readlinkSync('/proc/self/ns/pid'), token: 't' }));
    started = Date.now();
    store = await openStore();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(JSON.parse(readFileSync(`${path}.lock`, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    await store.close();
  });

  it('takes the lock of a mock killed a moment ago whose process is still a zombie', async () => {
    // A child killed and not yet reaped: kill(pid, 0) still succeeds, /proc says "Z".
    const child = spawn('sh', ['-c', 'sleep 30 & echo $!; wait'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const pid = Number((await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString())))).trim());
    // sh waits on the sleeper; stop sh first so the killed sleeper stays unreaped as a zombie.
    process.kill(child.pid!, 'SIGSTOP');
    process.kill(pid, 'SIGKILL');
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(readFileSync(`/proc/${pid}/stat`, 'utf8')).toMatch(/\) Z /);
      writeFileSync(`${path}.lock`, JSON.stringify({ pid, host: hostname(), pidns: readlinkSync('/proc/self/ns/pid'), token: 't' }));
      const started = Date.now();
      const store = await openStore();
      expect(Date.now() - started).toBeLessThan(1_000);
      await store.close();
    } finally {
      process.kill(child.pid!, 'SIGKILL');
    }
  });

  it('removes the temporary files of a write cut short (they may hold API keys)', async () => {
    writeFileSync(`${path}.0123456789ab.tmp`, '{"apiKey":"secret"}');
    writeFileSync(`${path}.journal.0123456789ab.tmp`, '{}');
    writeFileSync(join(dir, 'unrelated.tmp'), 'keep');
    await openStore();
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual(['unrelated.tmp']);
  });

  it('spends nothing it could not write: settles that share a failed write each fail, and every credit is back', async () => {
    const store = await openStore();
    const a = await store.admit('L', 10);
    const b = await store.admit('L', 10);
    if (!a.ok || !b.ok) throw new Error('expected admissions');
    rmSync(dir, { recursive: true, force: true }); // the directory is gone: every write fails
    const settled = await Promise.allSettled([store.settle(a.ticket, true), store.settle(b.ticket, true)]);
    for (const outcome of settled) {
      expect(outcome.status).toBe('rejected');
      expect(String((outcome as PromiseRejectedResult).reason)).toMatch(/Failed to write the file store .*Nothing was spent/);
    }
    expect((await store.getLicense('L'))?.credits).toBe(5);
    expect(await store.inFlight()).toBe(0);
  });
});
