/**
 * The visible "BEIA MOCK" mark drawn over every result, as an SVG of rectangles: no font is
 * needed, so the bytes are the same on every machine that has the same sharp.
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

/**
 * An SVG the size of the image: a frame and a tinted band in the colour `rgb`, with the text
 * "BEIA MOCK" across the band, scaled to the image's width.
 */
export function mockMarkSvg(width: number, height: number, rgb: readonly [number, number, number]): string {
  const colour = `rgb(${rgb.join(',')})`;
  const columns = TEXT.length * 6 - 1;
  const cell = Math.max(1, Math.floor((width * 0.8) / columns));
  const textWidth = columns * cell;
  const textHeight = 7 * cell;
  const x0 = Math.floor((width - textWidth) / 2);
  const y0 = Math.floor((height - textHeight) / 2);
  const frame = Math.max(1, Math.round(Math.min(width, height) / 40));
  const pad = cell * 2;

  const rects: string[] = [];
  [...TEXT].forEach((letter, index) => {
    const glyph = GLYPHS[letter] ?? GLYPHS[' ']!;
    glyph.forEach((row, y) => {
      [...row].forEach((lit, x) => {
        if (lit === '#') rects.push(`<rect x="${x0 + (index * 6 + x) * cell}" y="${y0 + y * cell}" width="${cell}" height="${cell}"/>`);
      });
    });
  });

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect x="${frame / 2}" y="${frame / 2}" width="${Math.max(0, width - frame)}" height="${Math.max(0, height - frame)}" fill="none" stroke="${colour}" stroke-width="${frame}"/>`,
    `<rect x="0" y="${y0 - pad}" width="${width}" height="${textHeight + 2 * pad}" fill="${colour}" fill-opacity="0.55"/>`,
    `<g fill="#ffffff">${rects.join('')}</g>`,
    '</svg>',
  ].join('');
}
