import { beforeAll, describe, expect, it } from 'vitest';
import { inProcessMock } from './helpers/app.js';
import { jpeg } from './helpers/images.js';

// Issue 21: the bounds of POST /__admin/verify as a caller sends them, through the route's own
// reading of the count (test/verify.test.ts holds verifyJournal's at the function).
let image: Buffer;
beforeAll(async () => {
  image = await jpeg();
});

describe('POST /__admin/verify at its bounds', () => {
  it('holds atMost and atLeast exactly at the count, and fails one past it', async () => {
    const mock = inProcessMock();
    for (let i = 0; i < 3; i++) expect((await mock.postImage({ image })).status).toBe(200);
    const verify = async (count: Record<string, number>) => {
      const res = await mock.admin('POST', '/verify', { pattern: { licenseId: '1234', status: 200 }, count });
      expect(res.status).toBe(200);
      const { ok, count: seen, expected } = (await res.json()) as { ok: boolean; count: number; expected: string };
      return { ok, seen, expected };
    };
    expect(await verify({ atMost: 3 })).toEqual({ ok: true, seen: 3, expected: 'at most 3' });
    expect(await verify({ atMost: 2 })).toEqual({ ok: false, seen: 3, expected: 'at most 2' });
    expect(await verify({ atLeast: 3 })).toEqual({ ok: true, seen: 3, expected: 'at least 3' });
    expect(await verify({ atLeast: 4 })).toEqual({ ok: false, seen: 3, expected: 'at least 4' });
    // Zero is a bound too: nothing matched is at most 0, and at least 0.
    const none = async (count: Record<string, number>) =>
      ((await (await mock.admin('POST', '/verify', { pattern: { status: 402 }, count })).json()) as { ok: boolean }).ok;
    expect([await none({ atMost: 0 }), await none({ atLeast: 0 }), await none({ atLeast: 1 })]).toEqual([true, true, false]);
  });
});
