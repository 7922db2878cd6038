import sharp from 'sharp';

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
  const jpeg = await sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
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
    const { info } = await sharp(Buffer.from(data), { failOn: 'warning' }).raw().toBuffer({ resolveWithObject: true });
    const meta = await sharp(Buffer.from(data)).metadata();
    return { format: meta.format ?? 'unknown', width: info.width, height: info.height };
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}
