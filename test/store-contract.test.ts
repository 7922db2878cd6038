import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeWithRedis, startRedis, type TestRedis } from './helpers/redis.js';
import type { LicenseConfig } from '../src/mock/config/index.js';
import { FileStore } from '../src/mock/store/file-store.js';
import { MemoryStore } from '../src/mock/store/memory-store.js';
import { RedisStore } from '../src/mock/store/redis-store.js';
import { Redis } from 'ioredis';
import type { MockStore } from '../src/mock/store/types.js';
import { draw, seedState } from '../src/mock/faults/chaos.js';

type StoreOptions = { maxJournalEntries: number; maxJournalBytes?: number };

// The contract of MockStore, run against every store so that they cannot drift.
const opened: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of opened.splice(0)) await close();
});

type MakeStore = (licenses: LicenseConfig[], options: StoreOptions) => Promise<MockStore>;

async function fileStore(licenses: LicenseConfig[], options: StoreOptions): Promise<MockStore> {
  const dir = mkdtempSync(join(tmpdir(), 'beia-store-'));
  const store = await FileStore.open(join(dir, 'state.json'), { seed: licenses, ...options });
  opened.push(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return store;
}

const license = (credits: number, maxConcurrent = 2) => ({ licenseId: 'L', apiKey: 'k', credits, allowedIps: ['127.0.0.1'], maxConcurrent });

/** Every store keeps these promises. */
function contract(makeStore: MakeStore): void {
  it('reserves credits on admission, so concurrent requests cannot promise the same credit', async () => {
    const store = await makeStore([license(1, 5)], { maxJournalEntries: 10 });
    const first = await store.admit('L', 10);
    const second = await store.admit('L', 10);
    expect(first.ok).toBe(true);
    expect(second).toEqual({ ok: false, reason: 'credits-reserved', credits: 1 });
    if (!first.ok) throw new Error('expected an admission');
    await store.settle(first.ticket, true);
    expect(await store.admit('L', 10)).toEqual({ ok: false, reason: 'no-credits', credits: 0 });
  });

  it('keeps requests in flight across a reset: their slot stays taken and their credit can be spent', async () => {
    const store = await makeStore([license(5, 1)], { maxJournalEntries: 10 });
    const admitted = await store.admit('L', 10);
    if (!admitted.ok) throw new Error('expected an admission');
    await store.reset([license(5, 1)]);
    expect((await store.getLicense('L'))!.inFlight).toBe(1);
    expect(await store.admit('L', 10)).toMatchObject({ ok: false, reason: 'license-busy' });
    expect(await store.settle(admitted.ticket, true)).toEqual({ spent: true, credits: 4 });
    expect(await store.inFlight()).toBe(0);
  });

  it('spends a credit only when settled with spend, and settles once: a second settle changes nothing and gives the first outcome', async () => {
    const store = await makeStore([license(3)], { maxJournalEntries: 10 });
    const a = await store.admit('L', 10);
    const b = await store.admit('L', 10);
    if (!a.ok || !b.ok) throw new Error('expected admissions');
    expect(await store.settle(a.ticket, true)).toEqual({ spent: true, credits: 2 });
    expect(await store.settle(a.ticket, true)).toEqual({ spent: true, credits: 2 });
    expect(await store.settle(a.ticket, false)).toEqual({ spent: true, credits: 2 });
    expect(await store.settle(b.ticket, false)).toEqual({ spent: false, credits: 2 });
    expect(await store.settle(b.ticket, true)).toEqual({ spent: false, credits: 2 });
    expect((await store.getLicense('L'))!.credits).toBe(2);
    expect((await store.getLicense('L'))!.inFlight).toBe(0);
  });

  it('refuses beyond the license limit and beyond the global limit', async () => {
    const store = await makeStore([license(10, 1), { ...license(10, 5), licenseId: 'M' }], { maxJournalEntries: 10 });
    expect((await store.admit('L', 2)).ok).toBe(true);
    expect(await store.admit('L', 2)).toMatchObject({ ok: false, reason: 'license-busy' });
    expect((await store.admit('M', 2)).ok).toBe(true);
    expect(await store.admit('M', 2)).toMatchObject({ ok: false, reason: 'server-busy' });
    expect(await store.admit('nobody', 2)).toMatchObject({ ok: false, reason: 'unknown-license' });
  });

  it('never goes below zero when the admin takes credits away during processing', async () => {
    const store = await makeStore([license(1)], { maxJournalEntries: 10 });
    const a = await store.admit('L', 10);
    if (!a.ok) throw new Error('expected admission');
    await store.updateLicense('L', { credits: 0 });
    expect(await store.settle(a.ticket, true)).toEqual({ spent: false, credits: 0 });
  });

  it('keeps only the newest journal entries', async () => {
    const store = await makeStore([], { maxJournalEntries: 2 });
    for (const status of [200, 401, 402]) {
      await store.appendJournal({ time: '', method: 'POST', path: '/', status, durationMs: 0, parts: [] });
    }
    expect((await store.listJournal()).map((e) => e.status)).toEqual([401, 402]);
    expect((await store.listJournal({ limit: 1 })).map((e) => e.seq)).toEqual([3]);
  });

  it('keeps the journal within maxJournalBytes: the newest entries whose JSON, as listed, fits; retry flags counted', async () => {
    // Entries of about 1 KB, with a non-ASCII filename: bytes are counted, not characters.
    const body = (status: number, licenseId?: string) => ({
      time: '2025-01-01T00:00:00.000Z',
      method: 'POST',
      path: `/${'x'.repeat(900)}`,
      status,
      durationMs: 1,
      parts: [{ name: 'image', kind: 'file' as const, size: 10, filename: 'é😀.png' }],
      ...(licenseId === undefined ? {} : { licenseId }),
    });
    // Flagged: each entry after the first comes within the 429's Retry-After (earlyByMs has 7 digits).
    const listedBytes = (seq: number, flagged: boolean) =>
      Buffer.byteLength(JSON.stringify({ seq, ...body(200), ...(flagged ? { retryTooEarly: true, earlyByMs: 4_999_999 } : {}) }));
    for (const flagged of [false, true]) {
      const newestFour = [8, 9, 10, 11].reduce((sum, seq) => sum + listedBytes(seq, flagged), 0);
      // Exactly the four newest, and one byte short of five: a store that counts a byte too many
      // keeps three in the first, one that counts too few keeps five in the second.
      for (const maxJournalBytes of [newestFour, newestFour + listedBytes(7, flagged) - 1]) {
        const store = await makeStore([], { maxJournalEntries: 100, maxJournalBytes });
        await store.appendJournal(body(429), flagged ? { client: 'c', retryAfterMs: 5_000_000 } : undefined);
        for (let i = 0; i < 10; i++) await store.appendJournal(body(200), flagged ? { client: 'c' } : undefined);
        const journal = await store.listJournal();
        expect(journal.map((e) => e.seq)).toEqual([8, 9, 10, 11]);
        expect(journal.every((e) => (e.retryTooEarly === true) === flagged)).toBe(true);
        expect(journal.reduce((sum, e) => sum + Buffer.byteLength(JSON.stringify(e)), 0)).toBeLessThanOrEqual(maxJournalBytes);
      }
    }
  });

  it('keeps the newest journal entry even when it alone is over maxJournalBytes, until a newer one comes', async () => {
    const store = await makeStore([], { maxJournalEntries: 100, maxJournalBytes: 4096 });
    const entry = (path: string) => ({ time: '', method: 'POST', path, status: 200, durationMs: 0, parts: [] });
    await store.appendJournal(entry('/small'));
    await store.appendJournal(entry(`/${'x'.repeat(6000)}`));
    expect((await store.listJournal()).map((e) => e.seq)).toEqual([2]);
    await store.appendJournal(entry('/small'));
    await store.appendJournal(entry('/small'));
    expect((await store.listJournal()).map((e) => e.seq)).toEqual([3, 4]);
  });

  it('counts out the bytes of the journal entries that a license deletion, a clear, a reset and an expiry remove', async () => {
    const two = { ...license(5), licenseId: 'M' };
    const entry = (licenseId: string) => ({ time: '', method: 'POST', path: `/${'x'.repeat(900)}`, status: 200, durationMs: 0, parts: [], licenseId });
    const biggest = Buffer.byteLength(JSON.stringify({ seq: 99, ...entry('L') }));
    // Room for four entries, not five.
    const store = await makeStore([license(5), two], { maxJournalEntries: 100, maxJournalBytes: 4 * biggest + 500 });
    const fill = async (licenseId: string) => {
      for (let i = 0; i < 4; i++) await store.appendJournal(entry(licenseId));
      return (await store.listJournal()).map((e) => e.licenseId);
    };
    expect(await fill('L')).toEqual(['L', 'L', 'L', 'L']);
    await store.deleteLicense('L');
    expect(await fill('M')).toEqual(['M', 'M', 'M', 'M']);
    await store.clearJournal();
    expect(await fill('M')).toEqual(['M', 'M', 'M', 'M']);
    await store.reset([license(5), two]);
    await store.putLicense({ ...two, licenseId: 'T', expiresAt: new Date(Date.now() + 300).toISOString() });
    expect(await fill('T')).toEqual(['T', 'T', 'T', 'T']);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await store.deleteExpired()).toEqual(['T']);
    expect(await fill('L')).toEqual(['L', 'L', 'L', 'L']);
  });

  it('fires a counted fault the given number of times, for its license only', async () => {
    const store = await makeStore([], { maxJournalEntries: 0 });
    await store.armFault({ type: 'error', licenseId: 'L', count: 2 });
    expect(await store.takeFault('M')).toBeUndefined();
    expect((await store.takeFault('L'))?.type).toBe('error');
    expect((await store.takeFault('L'))?.type).toBe('error');
    expect(await store.takeFault('L')).toBeUndefined();
    expect(await store.listFaults()).toEqual([]);
  });

  it('fires a seeded fault on the draws of its seed, the same sequence as the reference generator, and keeps it armed', async () => {
    const store = await makeStore([], { maxJournalEntries: 0 });
    const fault = await store.armFault({ type: 'reset', probability: 0.25, seed: 7 });
    expect(fault).toMatchObject({ seed: 7, fired: 0 });
    const fired = [];
    for (let i = 0; i < 40; i++) fired.push((await store.takeFault('L')) !== undefined);
    expect(fired).toEqual(referenceSequence(7, 0.25, 40).map((pick) => pick !== undefined));
    expect(fired.filter(Boolean).length).toBeGreaterThan(3); // a 0.25 fault fires now and then, not never
    expect((await store.listFaults())[0]).toMatchObject({ id: fault.id, fired: fired.filter(Boolean).length });
  });

  it('replays a seeded chaos mix exactly: same seed, same faults and kinds; another seed, another sequence', async () => {
    const run = async (seed: number) => {
      const store = await makeStore([], { maxJournalEntries: 0 });
      await store.armFault({ type: 'chaos', types: ['error', 'reset', 'latency'], latencyMs: 5, probability: 0.5, seed });
      const kinds = [];
      for (let i = 0; i < 60; i++) kinds.push((await store.takeFault('L'))?.type);
      return kinds;
    };
    const first = await run(42);
    expect(await run(42)).toEqual(first);
    expect(first).toEqual(referenceSequence(42, 0.5, 60, ['error', 'reset', 'latency']));
    expect(new Set(first)).toEqual(new Set([undefined, 'error', 'reset', 'latency']));
    expect(await run(43)).not.toEqual(first);
  });

  it('gives an unseeded fault that draws a seed of its own, listed so that the run can be replayed', async () => {
    const store = await makeStore([], { maxJournalEntries: 0 });
    const fault = await store.armFault({ type: 'error', probability: 0.5 });
    expect(Number.isInteger(fault.seed)).toBe(true);
    expect((await store.listFaults())[0]?.seed).toBe(fault.seed);
    const counted = await store.armFault({ type: 'error', count: 1 });
    expect(counted.seed).toBeUndefined();
  });

  it('deletes a license with its journal entries and faults; its request in flight settles as nothing', async () => {
    const store = await makeStore([license(5), { ...license(5), licenseId: 'M' }], { maxJournalEntries: 10 });
    const admitted = await store.admit('L', 10);
    if (!admitted.ok) throw new Error('expected an admission');
    await store.appendJournal({ time: '', method: 'POST', path: '/', status: 200, durationMs: 0, parts: [], licenseId: 'L' });
    await store.appendJournal({ time: '', method: 'POST', path: '/', status: 200, durationMs: 0, parts: [], licenseId: 'M' });
    await store.armFault({ type: 'error', licenseId: 'L', count: 1 });
    expect(await store.deleteLicense('L')).toBe(true);
    expect(await store.deleteLicense('L')).toBe(false);
    expect(await store.getLicense('L')).toBeUndefined();
    expect((await store.listJournal()).map((e) => e.licenseId)).toEqual(['M']);
    expect(await store.listFaults()).toEqual([]);
    await store.settle(admitted.ticket, true);
    expect(await store.inFlight()).toBe(0);
    expect(await store.admit('L', 10)).toMatchObject({ ok: false, reason: 'unknown-license' });
  });

  it('treats a license past its expiresAt as deleted, and deleteExpired sweeps them', async () => {
    const store = await makeStore([license(5)], { maxJournalEntries: 10 });
    const soon = (ms: number) => new Date(Date.now() + ms).toISOString();
    await store.putLicense({ ...license(3), licenseId: 'T1', expiresAt: soon(300) });
    await store.putLicense({ ...license(3), licenseId: 'T2', expiresAt: soon(700) });
    expect((await store.getLicense('T1'))?.expiresAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await store.admit('T1', 10)).ok).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await store.getLicense('T1')).toBeUndefined();
    expect(await store.admit('T1', 10)).toMatchObject({ ok: false, reason: 'unknown-license' });
    expect(await store.getLicense('T2')).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await store.deleteExpired()).toContain('T2');
    expect((await store.listLicenses()).map((l) => l.licenseId)).toEqual(['L']);
  });

  it("flags an entry that comes before the Retry-After of its client's last 429, and only that client's", async () => {
    const store = await makeStore([license(5)], { maxJournalEntries: 10 });
    const entry = (status: number) => ({ time: new Date().toISOString(), method: 'POST', path: '/', status, durationMs: 1, parts: [], licenseId: 'L' });
    expect(await store.appendJournal(entry(429), { client: 'L|127.0.0.1', retryAfterMs: 400 })).toEqual({});
    const early = await store.appendJournal(entry(200), { client: 'L|127.0.0.1' });
    expect(early.earlyByMs).toBeGreaterThan(200);
    expect(early.earlyByMs).toBeLessThanOrEqual(400);
    expect(await store.appendJournal(entry(200), { client: 'L|127.0.0.2' })).toEqual({});
    await new Promise((resolve) => setTimeout(resolve, 450));
    expect(await store.appendJournal(entry(200), { client: 'L|127.0.0.1' })).toEqual({});
    const journal = await store.listJournal();
    expect(journal.map((e) => e.retryTooEarly ?? false)).toEqual([false, true, false, false]);
    expect(journal[1]!.earlyByMs).toBe(early.earlyByMs);
  });
}

/** What a store must draw: the reference generator of `chaos.ts` stepped by hand. */
function referenceSequence(seed: number, probability: number, n: number, types?: string[]): (string | undefined)[] {
  let state = seedState(seed);
  const out: (string | undefined)[] = [];
  for (let i = 0; i < n; i++) {
    let step = draw(state);
    state = step.state;
    if (step.roll >= probability) {
      out.push(undefined);
      continue;
    }
    if (!types) {
      out.push('fired');
      continue;
    }
    step = draw(state);
    state = step.state;
    out.push(types[Math.floor(step.roll * types.length)]);
  }
  return out;
}

describe('MemoryStore, the MockStore contract', () => contract(async (licenses, options) => new MemoryStore(licenses, options)));
describe('FileStore, the MockStore contract', () => contract(fileStore));
describeWithRedis('RedisStore, the MockStore contract', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.dispose();
  });
  contract(async (licenses, options) => {
    // A prefix of its own per test: one Redis, no test sees another's keys.
    const store = await RedisStore.open(redis.url, { seed: licenses, ...options, prefix: `t${randomBytes(4).toString('hex')}:`, slotLeaseMs: 15_000 });
    opened.push(() => store.close());
    return store;
  });

  it('counts the bytes of a journal an older replica stored without a byte counter, and keeps it within maxJournalBytes', async () => {
    const prefix = `t${randomBytes(4).toString('hex')}:`;
    const entry = { time: '', method: 'POST', path: `/${'x'.repeat(900)}`, status: 200, durationMs: 0, parts: [] };
    const listed = (seq: number) => Buffer.byteLength(JSON.stringify({ seq, ...entry }));
    const raw = new Redis(redis.url);
    opened.push(async () => void (await raw.quit()));
    await raw.rpush(`${prefix}journal`, ...[1, 2, 3, 4].map((seq) => `${seq}\t\t${JSON.stringify(entry)}`));
    await raw.set(`${prefix}journal:seq`, 4);
    await raw.set(`${prefix}seeded`, '1');
    const store = await RedisStore.open(redis.url, {
      seed: [],
      maxJournalEntries: 100,
      maxJournalBytes: listed(2) + listed(3) + listed(4) + listed(5),
      prefix,
      slotLeaseMs: 15_000,
    });
    opened.push(() => store.close());
    await store.appendJournal(entry);
    expect((await store.listJournal()).map((e) => e.seq)).toEqual([2, 3, 4, 5]);
    expect(Number(await raw.get(`${prefix}journal:bytes`))).toBe(listed(2) + listed(3) + listed(4) + listed(5));
  });

  it('draws for a fault an older replica stored without its generator state, from its seed, as the memory store does', async () => {
    const prefix = `t${randomBytes(4).toString('hex')}:`;
    const store = await RedisStore.open(redis.url, { seed: [], maxJournalEntries: 0, prefix, slotLeaseMs: 15_000 });
    opened.push(() => store.close());
    const raw = new Redis(redis.url);
    opened.push(async () => void (await raw.quit()));
    await raw.set(`${prefix}fault:f9`, JSON.stringify({ type: 'error', probability: 0.5, seed: 7, id: 'f9', fired: 0 }));
    await raw.zadd(`${prefix}faults`, 9, 'f9');
    const memory = new MemoryStore([], {
      maxJournalEntries: 0,
      restore: { licenses: [], journal: [], nextSeq: 1, nextFault: 10, faults: [{ type: 'error', probability: 0.5, seed: 7, id: 'f9', fired: 0 }] },
    });
    const fromRedis = [];
    const fromMemory = [];
    for (let i = 0; i < 20; i++) {
      fromRedis.push((await store.takeFault('L')) !== undefined);
      fromMemory.push((await memory.takeFault('L')) !== undefined);
    }
    expect(fromRedis).toEqual(fromMemory);
    expect(fromRedis.some(Boolean)).toBe(true);
  });
});
