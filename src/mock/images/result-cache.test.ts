import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RenderedImages } from './render.js';
import { ResultCache } from './result-cache.js';

function rendered(resultBytes: number, croppedBytes?: number): RenderedImages {
  const value: RenderedImages = { result: Buffer.alloc(resultBytes), width: 1, height: 1, inputPixels: 1, boundary: 'b' };
  if (croppedBytes !== undefined) value.cropped = Buffer.alloc(croppedBytes);
  return value;
}

describe('ResultCache', () => {
  it('never holds more bytes than its bound, whatever is put in', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100_000 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 30_000 }), fc.boolean(), fc.boolean()), { maxLength: 200 }),
        (bound, operations) => {
          const cache = new ResultCache(bound);
          for (const [key, size, withCrop, read] of operations) {
            if (read) cache.get(`k${key}`, withCrop);
            else cache.put(`k${key}`, rendered(size, withCrop ? size >> 2 : undefined));
            const stats = cache.stats();
            expect(stats.bytes).toBeLessThanOrEqual(bound);
            expect(stats.entries).toBeGreaterThanOrEqual(0);
          }
        },
      ),
      { seed: 20261204, numRuns: 300 },
    );
  });

  it('pushes out the least recently used first', () => {
    const cache = new ResultCache(8 * (1000 + 256) * 3);
    cache.put('a', rendered(1000));
    cache.put('b', rendered(1000));
    cache.put('c', rendered(1000));
    expect(cache.get('a', false)).toBeDefined(); // a is now the most recent
    cache.put('d', rendered(1000 + 8 * 1256)); // too big for an eighth: not kept, nothing pushed out
    expect(cache.stats().entries).toBe(3);
    for (const key of ['e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y']) cache.put(key, rendered(1000));
    expect(cache.stats().entries).toBe(24); // full
    cache.put('z', rendered(1000));
    expect(cache.stats().entries).toBe(24);
    expect(cache.get('a', false)).toBeDefined();
    expect(cache.get('b', false)).toBeUndefined();
  });

  it('counts a hit only when the entry has the crop asked for, and keeps a crop it has', () => {
    const cache = new ResultCache(1_000_000);
    cache.put('a', rendered(100));
    expect(cache.get('a', true)).toBeUndefined();
    cache.put('a', rendered(100, 25));
    expect(cache.get('a', true)?.cropped?.length).toBe(25);
    cache.put('a', rendered(100)); // the same image again without its crop changes nothing
    expect(cache.get('a', true)?.cropped?.length).toBe(25);
    expect(cache.stats()).toMatchObject({ entries: 1, hits: 2, misses: 1, bytes: 100 + 25 + 256 });
  });

  it('keeps nothing with a bound of 0', () => {
    const cache = new ResultCache(0);
    cache.put('a', rendered(0));
    expect(cache.get('a', false)).toBeUndefined();
    expect(cache.stats()).toEqual({ entries: 0, bytes: 0, maxBytes: 0, hits: 0, misses: 1 });
  });

  it('refuses a bound that is not a whole number of bytes', () => {
    expect(() => new ResultCache(-1)).toThrow(/at least 0/);
    expect(() => new ResultCache(1.5)).toThrow(RangeError);
  });
});
