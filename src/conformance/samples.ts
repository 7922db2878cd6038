import { crc32 } from 'node:zlib';

/** The images the cases send: small, made here, the same every run. */
export interface Samples {
  jpeg: Buffer;
  width: number;
  height: number;
  text: Buffer;
  truncatedJpeg: Buffer;
}

export async function makeSamples(): Promise<Samples> {
  const width = 96;
  const height = 64;
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      pixels[i] = (x * 255) / width;
      pixels[i + 1] = (y * 255) / height;
      pixels[i + 2] = 128;
    }
  }
  const { default: sharp } = await import('sharp');
  const jpeg = await sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
  return {
    jpeg,
    width,
    height,
    text: Buffer.from('This is a text file, not an image.\n'),
    truncatedJpeg: jpeg.subarray(0, Math.floor(jpeg.length * 0.6)),
  };
}

/** Decodes an image in full: first bytes prove nothing (a truncated PNG has a good header). */
export async function decodeImage(data: Uint8Array): Promise<{ format: string; width: number; height: number } | Error> {
  try {
    // sharp only when a run decodes an answer: importing the suite loads no image library.
    const { default: sharp } = await import('sharp');
    const { info } = await sharp(Buffer.from(data), { failOn: 'warning' }).raw().toBuffer({ resolveWithObject: true });
    const meta = await sharp(Buffer.from(data)).metadata();
    return { format: meta.format ?? 'unknown', width: info.width, height: info.height };
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/**
 * A decompression bomb: a PNG header that claims `width` x `height` pixels, followed by almost no
 * data. Decoding it would need gigabytes; only a pixel limit refuses it cheaply.
 */
export function pngBomb(width = 100_000, height = 100_000): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.writeUInt8(8, 8); // bit depth 8, greyscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
