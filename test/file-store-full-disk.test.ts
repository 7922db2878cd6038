import { openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { validateConfig } from '../src/mock/index.js';
import { FileStore, type JournalEntry } from '../src/mock/store/index.js';
import { inProcessMock } from './helpers/app.js';
import { jpeg } from './helpers/images.js';
import { eventually } from './helpers/server.js';
import { describeWithTmpfs, mountTmpfs } from './helpers/tmpfs.js';

/** Writes filler files until the filesystem refuses one more byte. */
function fill(dir: string): string[] {
  const fillers: string[] = [];
  for (const size of [1024 * 1024, 64 * 1024, 4096, 512, 1]) {
    for (;;) {
      const path = join(dir, `filler-${fillers.length}`);
      fillers.push(path);
      const fd = openSync(path, 'w');
      try {
        writeSync(fd, Buffer.alloc(size));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
        break;
      } finally {
        closeSync(fd);
      }
    }
  }
  return fillers;
}

type Health = { status: string; store: { kind: string; status: string; reason?: string; journalPending?: number; journalDropped?: number } };

describeWithTmpfs('the file store on a full disk (a real 1 MiB tmpfs)', () => {
  it('a full disk: a 500 that spends nothing and a degraded health that says why; space freed, the next write succeeds and health is ok, the journal whole', async () => {
    const disk = mountTmpfs('1m');
    const path = join(disk.dir, 'state.json');
    const config = validateConfig({});
    const store = await FileStore.open(path, { seed: config.licenses, maxJournalEntries: 1000 });
    try {
      const mock = inProcessMock({}, { store });
      const image = await jpeg();
      const health = async () => (await (await mock.admin('GET', '/health')).json()) as Health;
      const onDisk = () => (JSON.parse(readFileSync(path, 'utf8')) as { licenses: { credits: number }[] }).licenses[0]!.credits;
      expect((await mock.postImage({ image })).status).toBe(200);
      await eventually(async () => (await health()).store.journalPending === 0);
      expect(await health()).toMatchObject({ status: 'ok', store: { kind: 'file', status: 'ok', journalPending: 0, journalDropped: 0 } });

      const fillers = fill(disk.dir);
      const refused = await mock.postImage({ image });
      expect(refused.status).toBe(500);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/Failed to write the file store .*Nothing was spent/);
      expect(await mock.credits()).toBe(99);
      expect(onDisk()).toBe(99);
      const degraded = await health();
      expect(degraded.status).toBe('degraded');
      expect(degraded.store.status).toBe('degraded');
      expect(degraded.store.reason).toMatch(/ENOSPC|no space left/i);
      // The journal's write (within 200 ms) fails too: its entry waits in memory, counted.
      await eventually(async () => /journal could not be written/.test((await health()).store.reason ?? ''));
      expect((await health()).store).toMatchObject({ journalPending: 1, journalDropped: 0 });

      for (const filler of fillers) rmSync(filler, { force: true });
      expect((await mock.postImage({ image })).status).toBe(200);
      expect(onDisk()).toBe(98);
      await eventually(async () => (await health()).status === 'ok' && (await health()).store.journalPending === 0, 5_000);
      const healthy = await health();
      expect(healthy.store).toEqual({ kind: 'file', status: 'ok', journalPending: 0, journalDropped: 0, stateLost: 0 });
      // The 500's entry, written while the disk was full, is on disk now, in order.
      const journal = (JSON.parse(readFileSync(`${path}.journal`, 'utf8')) as { journal: JournalEntry[] }).journal;
      expect(journal.map((entry) => entry.status)).toEqual([200, 500, 200]);
    } finally {
      await store.close().catch(() => {});
      disk.unmount();
    }
  });
});
