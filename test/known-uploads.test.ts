import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { inProcessMock } from './helpers/app.js';
import { jpeg } from './helpers/images.js';

const hex = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('an upload sent again is recognised by its bytes, not a new hash', () => {
  it('journals the same sha256 for the first send (hashed) and the next ones (recognised), and answers from the cache', async () => {
    const mock = inProcessMock();
    const image = await jpeg(64, 48, [10, 200, 30]);
    const other = await jpeg(64, 48, [200, 10, 30]);
    for (const each of [image, image, other, Buffer.from(image)]) expect((await mock.postImage({ image: each })).status).toBe(200);
    const journal = await mock.store.listJournal();
    const sha = journal.map((entry) => entry.parts.find((part) => part.name === 'image')?.sha256);
    expect(sha).toEqual([hex(image), hex(image), hex(other), hex(image)]);
    expect(journal.map((entry) => entry.cacheHit)).toEqual([false, true, false, true]);
  });

  it('journals the sha256 of an upload refused before it was rendered', async () => {
    const mock = inProcessMock();
    const image = await jpeg(64, 48);
    expect((await mock.postImage({ image, apiKey: 'wrong' })).status).toBe(401);
    expect((await mock.store.listJournal())[0]?.parts.find((part) => part.name === 'image')?.sha256).toBe(hex(image));
  });
});
