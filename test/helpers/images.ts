import sharp from 'sharp';

/** A real JPEG of one colour. */
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

import { decodeImage } from '../../src/conformance/samples.js';

export { pngBomb } from '../../src/conformance/samples.js';

/** Decodes an image in full, as the conformance suite does; throws when it does not decode. */
export async function decode(data: Uint8Array): Promise<{ format: string; width: number; height: number }> {
  const decoded = await decodeImage(data);
  if (decoded instanceof Error) throw decoded;
  return decoded;
}
