import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ImageGallery } from './gallery.js';

const picture = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: '#3366aa' } })
    .jpeg()
    .toBuffer();
const sha = (n: number) => n.toString(16).padStart(64, '0');

describe('ImageGallery', () => {
  it('draws a small JPEG of a kept image once, inside its box, and nothing for bytes that are not an image', async () => {
    const gallery = new ImageGallery({ entries: 5, maxBytes: 10_000_000, maxInputPixels: 50_000_000 });
    gallery.keep(sha(1), { upload: await picture(800, 400), result: Buffer.from('<script>not an image</script>') });
    expect(gallery.has(sha(1))).toEqual(['upload', 'result']);
    const thumb = await gallery.view(sha(1), 'upload', 'thumb');
    expect(await sharp(thumb).metadata()).toMatchObject({ format: 'jpeg', width: 96, height: 48 });
    expect(await gallery.view(sha(1), 'upload', 'thumb')).toBe(thumb); // drawn once
    expect(await gallery.view(sha(1), 'result', 'thumb')).toBeUndefined();
    expect(await gallery.view(sha(1), 'cropped', 'large')).toBeUndefined();
    expect(await gallery.view(sha(2), 'upload', 'large')).toBeUndefined();
  });

  it('keeps the newest entries within both bounds, counting the views it drew, and skips an upload over a quarter of the bytes', async () => {
    const gallery = new ImageGallery({ entries: 3, maxBytes: 400_000, maxInputPixels: 50_000_000 });
    const image = await picture(300, 200);
    for (let i = 1; i <= 5; i++) gallery.keep(sha(i), { upload: image });
    expect([1, 2, 3, 4, 5].map((i) => gallery.has(sha(i)).length)).toEqual([0, 0, 1, 1, 1]);
    // Seen again: it becomes the newest.
    gallery.keep(sha(3), { result: image });
    gallery.keep(sha(6), { upload: image });
    expect([3, 4, 5, 6].map((i) => gallery.has(sha(i)).length)).toEqual([2, 0, 1, 1]);
    await gallery.view(sha(6), 'upload', 'large');
    expect(gallery.stats().bytes).toBeGreaterThan(image.length * 4);
    expect(gallery.stats().bytes).toBeLessThanOrEqual(400_000);
    const noise = await sharp(randomBytes(400 * 300 * 3), { raw: { width: 400, height: 300, channels: 3 } })
      .png()
      .toBuffer();
    expect(noise.length).toBeGreaterThan(100_000);
    const before = gallery.stats();
    gallery.keep(sha(7), { upload: noise });
    expect(gallery.has(sha(7))).toEqual([]);
    expect(gallery.stats()).toEqual(before); // no empty entry pushing a kept one out
    // Two pages asking at once share one drawing, counted once.
    const [first, second] = await Promise.all([gallery.view(sha(6), 'upload', 'thumb'), gallery.view(sha(6), 'upload', 'thumb')]);
    expect(first).toBe(second);
    expect(gallery.stats().bytes).toBe(before.bytes + first!.length);
    for (let i = 8; i < 40; i++) gallery.keep(sha(i), { upload: Buffer.alloc(90_000, i) });
    expect(gallery.stats().bytes).toBeLessThanOrEqual(400_000);
    expect(gallery.stats().entries).toBeLessThanOrEqual(3);
  });

  it('keeps nothing when keepImages is 0', () => {
    const gallery = new ImageGallery({ entries: 0, maxBytes: 1_000_000, maxInputPixels: 1_000 });
    gallery.keep(sha(1), { upload: Buffer.alloc(10) });
    expect(gallery.stats()).toMatchObject({ entries: 0, bytes: 0 });
  });
});
