import { crc32 } from 'node:zlib';
import sharp from 'sharp';

/** A real JPEG of one colour (with a gradient stripe, so different sizes differ in content). */
export async function jpeg(width = 64, height = 48, rgb: [number, number, number] = [30, 120, 200]): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

export async function png(width = 64, height = 48, rgb: [number, number, number] = [200, 60, 20]): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .png()
    .toBuffer();
}

/** A JPEG cut short: its header is intact, so only a full decode notices. */
export async function truncatedJpeg(): Promise<Buffer> {
  const full = await jpeg(400, 300);
  return full.subarray(0, Math.floor(full.length * 0.6));
}

/**
 * A decompression bomb: a PNG header that claims `width` x `height` pixels, followed by almost
 * no data. Decoding it would need gigabytes; only a pixel limit refuses it cheaply.
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
  ihdr.writeUInt8(8, 8); // bit depth
  ihdr.writeUInt8(0, 9); // greyscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Decodes an image in full, as the conformance suite will: first bytes prove nothing. */
export async function decode(data: Uint8Array): Promise<{ format: string; width: number; height: number }> {
  const { info } = await sharp(Buffer.from(data), { failOn: 'warning' }).raw().toBuffer({ resolveWithObject: true });
  const meta = await sharp(Buffer.from(data)).metadata();
  return { format: meta.format ?? 'unknown', width: info.width, height: info.height };
}
