import { describe, expect, it } from 'vitest';
import { ImageGallery } from './gallery.js';
import type { RenderedImages } from './render.js';
import { ResultCache } from './result-cache.js';

const sha = (n: number) => n.toString(16).padStart(64, '0');
const rendered = (bytes: number): RenderedImages => ({ result: Buffer.alloc(bytes, 1), inputPixels: 1, width: 1, height: 1, boundary: 'b' });

describe('the gallery kept from the dashboard’s first read (keepFrom: opened)', () => {
  it('keeps nothing until has, stats or view is called, then keeps as before', async () => {
    for (const open of [(g: ImageGallery) => g.stats(), (g: ImageGallery) => g.has(sha(9)), (g: ImageGallery) => g.view(sha(9), 'upload', 'thumb')]) {
      const gallery = new ImageGallery({ entries: 5, maxBytes: 1_000_000, maxInputPixels: 1_000_000, keepFrom: 'opened' });
      gallery.keep(sha(1), { upload: Buffer.alloc(100) });
      expect(gallery.active).toBe(false);
      await open(gallery);
      expect(gallery.active).toBe(true);
      expect(gallery.has(sha(1))).toEqual([]);
      gallery.keep(sha(2), { upload: Buffer.alloc(100) });
      expect(gallery.has(sha(2))).toEqual(['upload']);
    }
  });

  it('keeps from the start by default', () => {
    const gallery = new ImageGallery({ entries: 5, maxBytes: 1_000_000, maxInputPixels: 1_000_000 });
    gallery.keep(sha(1), { upload: Buffer.alloc(100) });
    expect(gallery.has(sha(1))).toEqual(['upload']);
  });
});

describe('one byte budget for the result cache and the gallery (shareBudgetWith)', () => {
  it('counts the gallery’s bytes against the cache’s bound, a buffer held by both once', () => {
    const cache = new ResultCache(80_000);
    const gallery = new ImageGallery({ entries: 10, maxBytes: 400_000, maxInputPixels: 1_000_000 });
    cache.shareBudgetWith((isHeld) => gallery.bytesNotIn(isHeld));
    // The result the cache holds and the gallery shows is counted once.
    const shown = cache.put('a', rendered(5_000));
    gallery.keep(sha(1), { upload: Buffer.alloc(60_000), result: shown.result });
    expect(gallery.bytesNotIn(() => false)).toBe(65_000);
    for (let i = 0; i < 10; i++) cache.put(`k${i}`, rendered(5_000));
    const { bytes } = cache.stats();
    // 60,000 of uploads held by the gallery leave the cache about 20,000.
    expect(bytes).toBeLessThanOrEqual(20_000);
    expect(bytes).toBeGreaterThan(10_000);
    expect(bytes + gallery.bytesNotIn((image) => image === shown.result)).toBeLessThanOrEqual(80_000 + 5_256);
  });

  it('without a share, the cache fills its own bound as before', () => {
    const cache = new ResultCache(80_000);
    for (let i = 0; i < 20; i++) cache.put(`k${i}`, rendered(5_000));
    expect(cache.stats().bytes).toBeGreaterThan(70_000);
  });
});
