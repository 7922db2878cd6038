import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { MockAdminClient } from '../src/mock/index.js';
import { RedisStore } from '../src/mock/store/index.js';
import { startCliMock, type CliMock } from './helpers/cli.js';
import { jpeg } from './helpers/images.js';
import { describeWithRedis, lossyProxy, startRedis, type TestRedis } from './helpers/redis.js';
import { eventually, sendImage } from './helpers/server.js';
import { request } from 'undici';

// What the Redis store keeps when Redis fails under it (docs/stores.md, "When things fail").
let redis: TestRedis;
let image: Buffer;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const prefix = () => `o${randomBytes(4).toString('hex')}:`;

/** One `beia mock` replica on the test's Redis, with keys of its own. */
async function replica(licenses: unknown[], store: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<CliMock> {
  const config = JSON.stringify({ licenses, store: { prefix: prefix(), slotLeaseMs: 1000, ...store }, ...extra });
  const mock = await startCliMock(['--store', redis.url, '--config-json', config, '--quiet']);
  cleanups.push(() => mock.stop());
  return mock;
}

const admin = (mock: CliMock) => new MockAdminClient(new URL(mock.endpoint).origin);

/** Waits until the mock's health counts one lost state (Redis came back empty); health may fail while Redis is away. */
async function stateLostSeen(mock: CliMock): Promise<void> {
  await eventually(
    async () =>
      (
        await admin(mock)
          .health()
          .catch(() => undefined)
      )?.store.stateLost === 1,
    10_000,
  );
}

describeWithRedis('the Redis store through outages', () => {
  beforeAll(async () => {
    redis = await startRedis({ persist: true });
    image = await jpeg();
  });
  afterAll(async () => {
    await redis?.dispose();
  });

  it('Redis SIGKILLed with an image in processing: the slot is free within one lease after Redis is back, credits exact, the last credit spendable', async () => {
    const leaseMs = 3_000;
    const mock = await replica([{ licenseId: 'P', apiKey: 'k', credits: 1, maxConcurrent: 1 }], { slotLeaseMs: leaseMs });
    const sent = Date.now();
    const doomed = sendImage(mock.endpoint, image, { licenseId: 'P', apiKey: 'k', headers: { 'X-Beia-Mock-Scenario': 'latency; ms=1000' } });
    await eventually(async () => (await admin(mock).license('P')).inFlight === 1);
    // Killed near the end of the processing, so that its settle fails while Redis is away and
    // Redis comes back (with its append-only file) while the slot's lease still runs.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, sent + 700 - Date.now())));
    await redis.kill('SIGKILL');
    // Its settle fails: no 200, so nothing is spent.
    expect((await doomed).status).toBe(500);
    await redis.start();
    await eventually(async () => (await admin(mock).health()).status === 'ok', 10_000);
    const back = Date.now();
    await eventually(async () => (await admin(mock).license('P')).inFlight === 0, leaseMs);
    expect(Date.now() - back).toBeLessThanOrEqual(leaseMs);
    // And it stays free: nothing renews that lease any more.
    await new Promise((resolve) => setTimeout(resolve, leaseMs / 2));
    expect((await admin(mock).license('P')).inFlight).toBe(0);
    expect((await admin(mock).license('P')).credits).toBe(1);
    const last = await sendImage(mock.endpoint, image, { licenseId: 'P', apiKey: 'k' });
    expect(last.status).toBe(200);
    expect(last.headers['credits-remaining']).toBe('0');
    expect((await admin(mock).license('P')).credits).toBe(0);
    // The 500's journal entry, written while Redis was away, waited in memory: it is there, in order.
    const statuses = async (licenseId: string) => (await admin(mock).journal({ licenseId })).map((entry) => entry.status).join();
    await eventually(async () => (await statuses('P')) === '500,200');
  });

  it('a settle whose answer is lost after Redis ran it: it throws, and once Redis answers the credit comes back and the slot is free', async () => {
    const proxy = await lossyProxy(redis.port);
    cleanups.push(() => proxy.close());
    const keys = prefix();
    const store = await RedisStore.open(proxy.url, {
      seed: [{ licenseId: 'L', apiKey: 'k', credits: 2, allowedIps: ['127.0.0.1'], maxConcurrent: 2 }],
      maxJournalEntries: 10,
      prefix: keys,
      slotLeaseMs: 60_000,
    });
    cleanups.push(() => store.close());
    // Once through, so that Redis knows the scripts (a NOSCRIPT answer lost would tell nothing).
    const warm = await store.admit('L', 10);
    if (!warm.ok) throw new Error('expected an admission');
    expect(await store.settle(warm.ticket, false)).toEqual({ spent: false, credits: 2 });

    const admitted = await store.admit('L', 10);
    if (!admitted.ok) throw new Error('expected an admission');
    proxy.loseNextAnswer();
    await expect(store.settle(admitted.ticket, true)).rejects.toThrow(/did not answer/);
    // Redis ran it: spent there, though nobody was told.
    expect(redis.cli('HGET', `${keys}license:L`, 'credits')).toBe('1');
    // Reconnected, the settlement is redone as released: the credit back, the slot free.
    await eventually(async () => (await store.getLicense('L').catch(() => undefined))?.credits === 2, 5_000);
    expect((await store.getLicense('L'))!.inFlight).toBe(0);
    // The request's own final settle (the route's finally) changes nothing more.
    expect(await store.settle(admitted.ticket, false)).toEqual({ spent: false, credits: 2 });
    expect((await store.getLicense('L'))!.credits).toBe(2);
  });

  it('Redis refusing writes while connected (out of memory): health degraded with the last error until a write succeeds; the journal entries it refused wait and are written in order', async () => {
    const mock = await replica([{ licenseId: 'M', apiKey: 'k', credits: 5, maxConcurrent: 2 }]);
    expect((await sendImage(mock.endpoint, image, { licenseId: 'M', apiKey: 'k' })).status).toBe(200);
    // Its journal entry is written just after the answer: in Redis before Redis refuses writes.
    await eventually(async () => (await admin(mock).journal({ licenseId: 'M' })).length === 1);
    redis.cli('CONFIG', 'SET', 'maxmemory', '1');
    try {
      // A Lua script whose first write Redis allows goes on (admit and settle do): the credit is
      // spent as answered. The journal's first write is refused: its entries wait.
      expect((await sendImage(mock.endpoint, image, { licenseId: 'M', apiKey: 'k' })).status).toBe(200);
      expect((await sendImage(mock.endpoint, image, { licenseId: 'M', apiKey: 'wrong' })).status).toBe(401);
      await eventually(async () => (await admin(mock).health()).status === 'degraded', 6_000);
      const health = await admin(mock).health();
      expect(health.store.reason).toMatch(/fails its commands: .*OOM/);
      expect(health.store.journalPending).toBe(2);
    } finally {
      redis.cli('CONFIG', 'SET', 'maxmemory', '0');
    }
    // The probe (every 5 s) or the next request writes again.
    expect((await sendImage(mock.endpoint, image, { licenseId: 'M', apiKey: 'k' })).status).toBe(200);
    await eventually(async () => (await admin(mock).health()).status === 'ok', 10_000);
    expect((await admin(mock).license('M')).credits).toBe(2);
    // The last answer's entry is written just after it.
    await eventually(async () => (await admin(mock).journal({ licenseId: 'M' })).length === 4);
    expect((await admin(mock).journal({ licenseId: 'M' })).map((entry) => entry.status)).toEqual([200, 200, 401, 200]);
    expect((await admin(mock).health()).store).toMatchObject({ journalPending: 0, journalDropped: 0 });
  });

  it('journal entries beyond the 1000 that wait for Redis are dropped, oldest first, and counted: never silently', async () => {
    const store = await RedisStore.open(redis.url, { seed: [], maxJournalEntries: 2000, prefix: prefix(), slotLeaseMs: 15_000 });
    cleanups.push(() => store.close());
    const entry = (n: number) => ({ time: '', method: 'POST', path: `/${n}`, status: 200, durationMs: 0, parts: [] });
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    cleanups.push(async () => errors.mockRestore());
    await redis.stop();
    for (let n = 0; n < 1005; n++) expect(await store.appendJournal(entry(n))).toEqual({});
    expect(store.counters()).toEqual({ journalPending: 1000, journalDropped: 5, stateLost: 0 });
    expect(errors.mock.calls.map(([line]) => String(line)).filter((line) => /journal entries (wait|dropped)/.test(line))).toHaveLength(2);
    await redis.start();
    await eventually(() => store.counters().journalPending === 0, 10_000);
    const journal = await store.listJournal();
    expect(journal).toHaveLength(1000);
    expect(journal[0]!.path).toBe('/5');
    expect(journal.at(-1)!.path).toBe('/1004');
    expect(store.counters().journalDropped).toBe(5);
  });
});

describeWithRedis('a Redis that loses its state under a running mock', () => {
  let bare: TestRedis;
  beforeAll(async () => {
    bare = await startRedis(); // no persistence: a restart comes back empty
    image ??= await jpeg();
  });
  afterAll(async () => {
    await bare?.dispose();
  });

  async function bareReplica(store: Record<string, unknown>): Promise<CliMock> {
    const config = JSON.stringify({ licenses: [{ licenseId: 'S', apiKey: 'k', credits: 5, maxConcurrent: 2 }], store: { prefix: prefix(), ...store } });
    const mock = await startCliMock(['--store', bare.url, '--config-json', config, '--quiet']);
    cleanups.push(() => mock.stop());
    return mock;
  }

  const metric = async (mock: CliMock, name: string) => {
    const text = await (await request(`${new URL(mock.endpoint).origin}/__admin/metrics`)).body.text();
    return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
  };

  it('restarted without persistence (onStateLost "reseed", the default): one loud line, counted, reseeded from the config', async () => {
    const mock = await bareReplica({});
    for (let i = 0; i < 2; i++) expect((await sendImage(mock.endpoint, image, { licenseId: 'S', apiKey: 'k' })).status).toBe(200);
    expect((await admin(mock).license('S')).credits).toBe(3);
    await bare.stop();
    await bare.start();
    await stateLostSeen(mock);
    await eventually(async () => (await admin(mock).health()).status === 'ok');
    expect((await admin(mock).license('S')).credits).toBe(5);
    expect(mock.stderr().match(/STATE LOST: The Redis store redis:\/\/127\.0\.0\.1:\d+ lost its state: the o[0-9a-f]+:seeded marker is gone/g)).toHaveLength(1);
    expect(mock.stderr()).toMatch(/was reseeded from the config\./);
    expect(await metric(mock, 'beia_mock_store_state_lost_total')).toBe(1);
    expect((await sendImage(mock.endpoint, image, { licenseId: 'S', apiKey: 'k' })).status).toBe(200);
    expect((await admin(mock).license('S')).credits).toBe(4);
  });

  it('restarted without persistence (onStateLost "degraded"): health degraded with the reason, never ok over the empty store, until POST /__admin/reset', async () => {
    const mock = await bareReplica({ onStateLost: 'degraded' });
    expect((await sendImage(mock.endpoint, image, { licenseId: 'S', apiKey: 'k' })).status).toBe(200);
    await bare.stop();
    await bare.start();
    await stateLostSeen(mock);
    const health = await admin(mock).health();
    expect(health.status).toBe('degraded');
    expect(health.store.reason).toMatch(/lost its state.*store\.onStateLost is "degraded": POST \/__admin\/reset/);
    expect(await admin(mock).licenses()).toEqual([]);
    expect((await sendImage(mock.endpoint, image, { licenseId: 'S', apiKey: 'k' })).status).toBe(401);
    // Still degraded a probe later: nothing reseeds by itself.
    await new Promise((resolve) => setTimeout(resolve, 5_500));
    expect((await admin(mock).health()).status).toBe('degraded');
    await admin(mock).reset();
    expect((await admin(mock).health()).status).toBe('ok');
    expect((await admin(mock).license('S')).credits).toBe(5);
    expect((await sendImage(mock.endpoint, image, { licenseId: 'S', apiKey: 'k' })).status).toBe(200);
    expect(await metric(mock, 'beia_mock_store_state_lost_total')).toBe(1);
  });

  it('two replicas and a FLUSHALL: exactly one reseeds, inside the script, and neither wipes what the other did since', async () => {
    const keys = prefix();
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    cleanups.push(async () => errors.mockRestore());
    const open = async () => {
      const store = await RedisStore.open(bare.url, {
        seed: [{ licenseId: 'S', apiKey: 'k', credits: 5, allowedIps: ['127.0.0.1'], maxConcurrent: 2 }],
        maxJournalEntries: 10,
        prefix: keys,
        slotLeaseMs: 15_000,
        stateCheckMs: 50,
      });
      cleanups.push(() => store.close());
      return store;
    };
    const [a, b] = [await open(), await open()];
    const spend = async (store: RedisStore) => {
      const admitted = await store.admit('S', 10);
      if (!admitted.ok) throw new Error(`not admitted: ${admitted.reason}`);
      return store.settle(admitted.ticket, true);
    };
    await spend(a);
    expect((await b.getLicense('S'))!.credits).toBe(4);
    bare.cli('FLUSHALL');
    await eventually(async () => (await a.getLicense('S'))?.credits === 5 && a.health() === 'ok' && b.health() === 'ok', 5_000);
    await spend(b);
    // Many checks later, by both: the state is not seeded again over the spend.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await a.getLicense('S'))!.credits).toBe(4);
    const lines = errors.mock.calls.map(([line]) => String(line));
    expect(lines.filter((line) => /was reseeded from the config\.$/.test(line))).toHaveLength(1);
    expect(a.counters().stateLost + b.counters().stateLost).toBeGreaterThanOrEqual(1);
    expect(lines.filter((line) => line.includes('STATE LOST'))).toHaveLength(a.counters().stateLost + b.counters().stateLost);
  });
});
