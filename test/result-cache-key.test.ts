import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { inProcessMock } from './helpers/app.js';

// Issue 21: the result cache is keyed by the upload's content (sha256). Two different uploads of
// exactly the same byte length must each get their own result: a key by size would hand the
// second the first one's image, as a hit.

/** An uncompressed PNG of one colour: its length depends on its size only, never on its colour. */
function flatPng(rgb: [number, number, number]): Promise<Buffer> {
  return sharp({ create: { width: 64, height: 48, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .png({ compressionLevel: 0, adaptiveFiltering: false, palette: false })
    .toBuffer();
}

const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('the result cache key', () => {
  it('gives two different uploads of the same byte length each their own result, the second not a hit', async () => {
    const red = await flatPng([220, 20, 20]);
    const green = await flatPng([20, 220, 20]);
    // What the test rests on: same length, different bytes.
    expect(green.length).toBe(red.length);
    expect(sha(green)).not.toBe(sha(red));

    const mock = inProcessMock();
    const first = await mock.postImage({ image: red, filename: 'red.png' });
    const second = await mock.postImage({ image: green, filename: 'green.png' });
    expect([first.status, second.status]).toEqual([200, 200]);
    const [a, b] = [Buffer.from(await first.arrayBuffer()), Buffer.from(await second.arrayBuffer())];
    expect(sha(b)).not.toBe(sha(a));
    // Each result is drawn from its own upload: its pixels keep the upload's colour.
    const { dominant: dominantA } = await sharp(a).stats();
    const { dominant: dominantB } = await sharp(b).stats();
    expect(dominantA.r).toBeGreaterThan(dominantA.g);
    expect(dominantB.g).toBeGreaterThan(dominantB.r);

    const journal = (await (await mock.admin('GET', '/journal')).json()) as Array<{ status: number; cacheHit?: boolean }>;
    expect(journal.map((entry) => [entry.status, entry.cacheHit])).toEqual([
      [200, false],
      [200, false],
    ]);

    // The same content again is the hit, byte for byte its own first answer.
    const again = await mock.postImage({ image: green, filename: 'green.png' });
    expect(Buffer.from(await again.arrayBuffer()).equals(b)).toBe(true);
    const last = (await (await mock.admin('GET', '/journal')).json()) as Array<{ cacheHit?: boolean }>;
    expect(last.at(-1)?.cacheHit).toBe(true);
  });
});
