import { describe, expect, it } from 'vitest';
import { drawMockMark, markLayout } from './mock-mark.js';

function flat(width: number, height: number, channels: 3 | 4, value: number): Uint8Array {
  return new Uint8Array(width * height * channels).fill(value);
}

describe('drawMockMark', () => {
  it('draws an opaque frame, a tinted band and white text, and leaves the rest alone', () => {
    const [width, height, channels] = [320, 200, 3] as const;
    const pixels = flat(width, height, channels, 100);
    drawMockMark(pixels, width, height, channels, [200, 0, 50]);
    const at = (x: number, y: number) => [...pixels.subarray((y * width + x) * channels, (y * width + x + 1) * channels)];
    const layout = markLayout(width, height);
    expect(at(0, 0)).toEqual([200, 0, 50]); // frame
    expect(at(width - 1, height - 1)).toEqual([200, 0, 50]);
    expect(at(width >> 1, layout.frame + 1)).toEqual([100, 100, 100]); // untouched, above the band
    const band = at(layout.frame + 1, layout.bandTop);
    expect(band[0]).toBeGreaterThan(100); // 100 blended towards 200
    expect(band[1]).toBeLessThan(100); // towards 0
    let white = 0;
    for (let i = 0; i < pixels.length; i += channels) if (pixels[i] === 255 && pixels[i + 1] === 255 && pixels[i + 2] === 255) white += 1;
    expect(white).toBeGreaterThan(width * height * 0.02);
  });

  it('makes the mark opaque on a transparent image', () => {
    const [width, height] = [100, 60];
    const pixels = flat(width, height, 4, 0);
    drawMockMark(pixels, width, height, 4, [10, 20, 30]);
    expect(pixels[3]).toBe(255); // frame
    const { bandTop } = markLayout(width, height);
    const inBand = (bandTop * width + (width >> 1)) * 4;
    expect(pixels[inBand + 3]).toBeGreaterThan(100);
    expect(pixels[(2 * width + (width >> 1)) * 4 + 7]).toBe(0); // above the band, inside the frame: still transparent
  });

  it('draws on the smallest images without writing outside them', () => {
    for (const [width, height] of [
      [1, 1],
      [2, 7],
      [53, 1],
      [16, 16],
    ] as const) {
      const buffer = new Uint8Array(width * height * 3 + 6).fill(7);
      const pixels = buffer.subarray(3, 3 + width * height * 3);
      drawMockMark(pixels, width, height, 3, [1, 2, 3]);
      expect([...buffer.subarray(0, 3), ...buffer.subarray(buffer.length - 3)]).toEqual([7, 7, 7, 7, 7, 7]);
    }
  });

  it('gives the same pixels for the same input', () => {
    const a = flat(64, 48, 3, 90);
    const b = flat(64, 48, 3, 90);
    drawMockMark(a, 64, 48, 3, [5, 6, 7]);
    drawMockMark(b, 64, 48, 3, [5, 6, 7]);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  it('refuses pixels that are not RGB or RGBA', () => {
    expect(() => drawMockMark(new Uint8Array(4), 2, 2, 1, [0, 0, 0])).toThrow(/3 or 4 channels/);
  });
});
