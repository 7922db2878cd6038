import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { MockAdminClient } from '../src/mock/index.js';
import { RedisStore } from '../src/mock/store/index.js';
import { startCliMock, type CliMock } from './helpers/cli.js';
import { jpeg } from './helpers/images.js';
import { describeWithRedis, lossyProxy, startRedis, type TestRedis } from './helpers/redis.js';
import { eventually, sendImage } from './helpers/server.js';

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
});
