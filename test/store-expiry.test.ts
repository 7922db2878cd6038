import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ArmedFault, JournalEntry, MockStore } from '../src/mock/store/index.js';
import { FileStore, MemoryStore, RedisStore } from '../src/mock/store/index.js';
import { DEFAULT_CONFIG } from '../src/mock/config/index.js';
import { inProcessMock } from './helpers/app.js';
import { jpeg } from './helpers/images.js';
import { describeWithRedis, startRedis, type TestRedis } from './helpers/redis.js';

const bounds = { maxJournalEntries: 100 };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/**
 * A license made for one test expires as one step: after its TTL its journal entries and faults
 * are not listed either, without the 30 s sweep (which no test here runs).
 */
function expiresWhole(makeStore: () => Promise<MockStore>): void {
  it('a license with ttlSeconds 1: after 1.5 s, its journal entries and faults are not listed', async () => {
    const mock = inProcessMock({}, { store: await makeStore() });
    const created = (await (await mock.admin('POST', '/licenses', { credits: 5, ttlSeconds: 1 })).json()) as { licenseId: string; apiKey: string };
    const answer = await mock.postImage(
      { licenseId: created.licenseId, apiKey: created.apiKey, image: await jpeg() },
      { headers: { 'License-Id': created.licenseId } },
    );
    expect(answer.status).toBe(200);
    expect((await mock.admin('POST', '/faults', { type: 'error', count: 3, licenseId: created.licenseId })).status).toBe(201);
    const listed = async () => ({
      journal: ((await (await mock.admin('GET', '/journal')).json()) as JournalEntry[]).filter((e) => e.licenseId === created.licenseId),
      faults: ((await (await mock.admin('GET', '/faults')).json()) as ArmedFault[]).filter((f) => f.licenseId === created.licenseId),
    });
    // The journal entry is written after the answer: wait for it.
    for (let i = 0; i < 50 && (await listed()).journal.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect((await listed()).journal.map((e) => e.status)).toEqual([200]);
    expect((await listed()).faults).toHaveLength(1);

    await new Promise((resolve) => setTimeout(resolve, 1_500));
    // Journal and faults first: listing the licenses would sweep anyway.
    expect((await listed()).faults).toEqual([]);
    expect((await listed()).journal).toEqual([]);
    expect(((await (await mock.admin('GET', `/journal?licenseId=${created.licenseId}`)).json()) as unknown[]).length).toBe(0);
    expect((await mock.admin('GET', `/licenses/${created.licenseId}`)).status).toBe(404);
  });
}

describe('MemoryStore: expiry is one step', () => expiresWhole(async () => new MemoryStore(DEFAULT_CONFIG.licenses, bounds)));

describe('FileStore: expiry is one step', () =>
  expiresWhole(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'beia-expiry-'));
    const store = await FileStore.open(join(dir, 'state.json'), { seed: DEFAULT_CONFIG.licenses, ...bounds });
    cleanups.push(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return store;
  }));

describeWithRedis('RedisStore: expiry is one step', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.dispose();
  });
  expiresWhole(async () => {
    const store = await RedisStore.open(redis.url, {
      seed: DEFAULT_CONFIG.licenses,
      ...bounds,
      prefix: `e${randomBytes(4).toString('hex')}:`,
      slotLeaseMs: 15_000,
    });
    cleanups.push(() => store.close());
    return store;
  });
});
