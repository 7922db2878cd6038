import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CHECK_NAMES, validateConfig, type CheckName, type LicenseConfig, type MockStore } from '../src/mock/index.js';
import { FileStore } from '../src/mock/store/file-store.js';
import { MemoryStore } from '../src/mock/store/memory-store.js';
import { RedisStore } from '../src/mock/store/redis-store.js';
import { errorCode, inProcessMock } from './helpers/app.js';
import { jpeg } from './helpers/images.js';
import { describeWithRedis, startRedis, type TestRedis } from './helpers/redis.js';

// Issue 21: a license with no credits is a 402 `no_credits` with Credits-Remaining 0 in every
// store. Two checks refuse it (the `credits` check, and the store's `admit` for the `slot` check),
// and in the default order each hides a mistake in the other; these tests put each one alone in
// front, so a refusal that lets zero through (`<= 0` become `< 0`) fails here.

const opened: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of opened.splice(0)) await close();
});

let image: Buffer;
beforeAll(async () => {
  image = await jpeg();
});

type MakeStore = (licenses: readonly LicenseConfig[]) => Promise<MockStore>;

/** The default order with `first` moved just after `after`. */
function orderWith(first: CheckName, after: CheckName): CheckName[] {
  const order = CHECK_NAMES.filter((name) => name !== first);
  order.splice(order.indexOf(after) + 1, 0, first);
  return order;
}

function noCredits(makeStore: MakeStore): void {
  async function mockWith(checkOrder: CheckName[] = [...CHECK_NAMES]) {
    const overrides = { licenses: [{ licenseId: '1234', apiKey: '5678', credits: 0 }], rules: { checkOrder } };
    const store = await makeStore(validateConfig(overrides).licenses);
    return inProcessMock(overrides, { store });
  }

  async function expectNoCredits(res: Response): Promise<void> {
    expect({ status: res.status, credits: res.headers.get('credits-remaining'), code: await errorCode(res) }).toEqual({
      status: 402,
      credits: '0',
      code: 'no_credits',
    });
  }

  it('answers 402 no_credits with Credits-Remaining 0, spends nothing and journals it', async () => {
    const mock = await mockWith();
    await expectNoCredits(await mock.postImage({ image }));
    expect(await mock.credits()).toBe(0);
    await expectNoCredits(await mock.postImage({ image }));
    const journal = (await (await mock.admin('GET', '/journal')).json()) as Array<{ status: number; code?: string }>;
    expect(journal.map((entry) => [entry.status, entry.code])).toEqual([
      [402, 'no_credits'],
      [402, 'no_credits'],
    ]);
  });

  it('the credits check alone refuses zero: 402 before the image is looked at (slot moved after image)', async () => {
    const mock = await mockWith(orderWith('slot', 'image'));
    // Not an image: were zero let through, the image check would answer 415 and render nothing.
    await expectNoCredits(await mock.postImage({ image: Buffer.from('not an image at all'), filename: 'a.txt' }));
    await expectNoCredits(await mock.postImage({ image }));
    const { cache } = (await (await mock.admin('GET', '/health')).json()) as { cache: { misses: number } };
    expect(cache.misses).toBe(0);
  });

  it("the store's admit alone refuses zero: 402, not 429 (slot moved before credits)", async () => {
    const mock = await mockWith(orderWith('slot', 'auth'));
    await expectNoCredits(await mock.postImage({ image }));
    expect(await mock.credits()).toBe(0);
  });

  it('gives the credit spent last its 200 and the next request its 402', async () => {
    const overrides = { licenses: [{ licenseId: '1234', apiKey: '5678', credits: 1 }] };
    const mock = inProcessMock(overrides, { store: await makeStore(validateConfig(overrides).licenses) });
    const paid = await mock.postImage({ image });
    expect([paid.status, paid.headers.get('credits-remaining')]).toEqual([200, '0']);
    await expectNoCredits(await mock.postImage({ image }));
  });
}

describe('no credits, the memory store', () => noCredits(async (licenses) => new MemoryStore(licenses, { maxJournalEntries: 100 })));

describe('no credits, the file store', () =>
  noCredits(async (licenses) => {
    const dir = mkdtempSync(join(tmpdir(), 'beia-no-credits-'));
    const store = await FileStore.open(join(dir, 'state.json'), { seed: licenses, maxJournalEntries: 100 });
    opened.push(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return store;
  }));

describeWithRedis('no credits, the Redis store', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.dispose();
  });
  noCredits(async (licenses) => {
    const store = await RedisStore.open(redis.url, {
      seed: licenses,
      maxJournalEntries: 100,
      prefix: `t${randomBytes(4).toString('hex')}:`,
      slotLeaseMs: 15_000,
    });
    opened.push(() => store.close());
    return store;
  });
});
