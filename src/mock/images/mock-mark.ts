/**
 * The visible "BEIA MOCK" mark drawn over every result, straight onto the decoded pixels: a frame
 * and a half-transparent band in a colour taken from the input's hash, with the text in white
 * 5x7 block glyphs across the band. No font and no SVG rasteriser are involved, so the bytes are
 * the same on every machine with the same sharp, and only the frame and the band are touched.
 */

// 5x7 glyphs, one string per row, '#' for a lit cell.
const GLYPHS: Record<string, readonly string[]> = {
  B: ['####.', '#...#', '#...#', '####.', '#...#', '#...#', '####.'],
  E: ['#####', '#....', '#....', '####.', '#....', '#....', '#####'],
  I: ['#####', '..#..', '..#..', '..#..', '..#..', '..#..', '#####'],
  A: ['.###.', '#...#', '#...#', '#####', '#...#', '#...#', '#...#'],
  M: ['#...#', '##.##', '#.#.#', '#.#.#', '#...#', '#...#', '#...#'],
  O: ['.###.', '#...#', '#...#', '#...#', '#...#', '#...#', '.###.'],
  C: ['.####', '#....', '#....', '#....', '#....', '#....', '.####'],
  K: ['#...#', '#..#.', '#.#..', '##...', '#.#..', '#..#.', '#...#'],
  ' ': ['.....', '.....', '.....', '.....', '.....', '.....', '.....'],
};

const TEXT = 'BEIA MOCK';
/** Opacity of the band over the image, in 1/256ths (about 0.55). */
const BAND_ALPHA = 141;

/** Where the mark goes on an image of this size. */
export interface MarkLayout {
  /** Side of one glyph cell, in pixels. */
  cell: number;
  /** Width of the frame along each edge. */
  frame: number;
  /** First and last (exclusive) rows of the band. */
  bandTop: number;
  bandBottom: number;
  /** Top-left corner of the text. */
  textX: number;
  textY: number;
}

export function markLayout(width: number, height: number): MarkLayout {
  const columns = TEXT.length * 6 - 1;
  const cell = Math.max(1, Math.floor((width * 0.8) / columns));
  const textX = Math.floor((width - columns * cell) / 2);
  const textY = Math.floor((height - 7 * cell) / 2);
  const pad = cell * 2;
  return {
    cell,
    frame: Math.max(1, Math.round(Math.min(width, height) / 40)),
    bandTop: Math.max(0, textY - pad),
    bandBottom: Math.min(height, textY + 7 * cell + pad),
    textX,
    textY,
  };
}

/**
 * Draws the mark in place on 8-bit interleaved pixels with 3 (RGB) or 4 (RGBA) channels.
 *
 * @example
 * ```ts
 * const { data, info } = await sharp(input).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
 * drawMockMark(data, info.width, info.height, info.channels, [200, 40, 90]);
 * ```
 */
export function drawMockMark(pixels: Uint8Array, width: number, height: number, channels: number, rgb: readonly [number, number, number]): void {
  if (channels !== 3 && channels !== 4) throw new RangeError(`drawMockMark needs 3 or 4 channels, not ${channels}`);
  const { cell, frame, bandTop, bandBottom, textX, textY } = markLayout(width, height);
  const stride = width * channels;
  const opaque = (x: number, y: number, colour: readonly number[]) => {
    const i = y * stride + x * channels;
    pixels[i] = colour[0]!;
    pixels[i + 1] = colour[1]!;
    pixels[i + 2] = colour[2]!;
    if (channels === 4) pixels[i + 3] = 255;
  };

  // The frame: opaque, in the colour.
  for (let y = 0; y < height; y++) {
    const edgeRow = y < frame || y >= height - frame;
    for (let x = 0; x < width; x++) {
      if (edgeRow || x < frame || x >= width - frame) opaque(x, y, rgb);
      else x = width - frame - 1; // skip the inside of the row
    }
  }

  // The band: the colour over the image at BAND_ALPHA, through one lookup table per channel.
  const blend = rgb.map((c) => Uint8Array.from({ length: 256 }, (_, p) => (p * (256 - BAND_ALPHA) + c * BAND_ALPHA + 128) >> 8));
  const alphaBlend = Uint8Array.from({ length: 256 }, (_, a) => (a * (256 - BAND_ALPHA) + 255 * BAND_ALPHA + 128) >> 8);
  const [r, g, b] = blend as [Uint8Array, Uint8Array, Uint8Array];
  for (let y = bandTop; y < bandBottom; y++) {
    const end = (y + 1) * stride;
    for (let i = y * stride; i < end; i += channels) {
      pixels[i] = r[pixels[i]!]!;
      pixels[i + 1] = g[pixels[i + 1]!]!;
      pixels[i + 2] = b[pixels[i + 2]!]!;
      if (channels === 4) pixels[i + 3] = alphaBlend[pixels[i + 3]!]!;
    }
  }

  // The text: white cells, clipped to the image.
  const white = [255, 255, 255];
  [...TEXT].forEach((letter, index) => {
    const glyph = GLYPHS[letter] ?? GLYPHS[' ']!;
    glyph.forEach((row, gy) => {
      for (let gx = 0; gx < row.length; gx++) {
        if (row[gx] !== '#') continue;
        const left = textX + (index * 6 + gx) * cell;
        const top = textY + gy * cell;
        for (let y = Math.max(0, top); y < Math.min(height, top + cell); y++) {
          for (let x = Math.max(0, left); x < Math.min(width, left + cell); x++) opaque(x, y, white);
        }
      }
    });
  });
}
