import { createHash } from 'node:crypto';
import sharp, { type Metadata } from 'sharp';
import { ApiError } from '../http/api-error.js';
import { mockMarkSvg } from './mock-mark.js';

export interface ImageLimits {
  /** Most pixels in an input image (decompression bombs). */
  maxInputPixels: number;
  /** Longest side of the result. */
  maxSide: number;
}

export interface InspectedImage {
  format: string;
  width: number;
  height: number;
}

export interface RenderedImages {
  result: Buffer;
  /** Pixels of the input, for the simulated processing time per megapixel. */
  inputPixels: number;
  width: number;
  height: number;
}

// 'warning' makes libvips fail on a truncated JPEG or PNG instead of filling the rest with grey.
const DECODE = { failOn: 'warning' } as const;

/**
 * Reads an upload's header: what it is and how big, without decoding the pixels. A file that
 * is not an image, or has more pixels than the limit, is a 415. This is not proof that the
 * image decodes (a truncated JPEG has a good header); {@link renderResult} decodes it in full.
 */
export async function inspectImage(data: Buffer, limits: ImageLimits): Promise<InspectedImage> {
  let meta: Metadata;
  try {
    meta = await sharp(data, { ...DECODE, limitInputPixels: false }).metadata();
  } catch (error) {
    throw new ApiError('unsupported_file', `Failed to read the image: ${reason(error)}. Send a JPEG, PNG, WebP, GIF, TIFF or AVIF file.`);
  }
  const { format, width, height } = meta;
  if (!format || !width || !height) {
    throw new ApiError('unsupported_file', 'Failed to read the image: it has no size. Send a JPEG, PNG, WebP, GIF, TIFF or AVIF file.');
  }
  if (width * height > limits.maxInputPixels) {
    throw new ApiError(
      'image_too_large',
      `The image is ${width}x${height} (${width * height} pixels), over the limit of ${limits.maxInputPixels}. Send a smaller image, or raise limits.maxInputPixels in the mock's config.`,
    );
  }
  return { format, width, height };
}

/**
 * The mock's result for an upload: the image decoded in full, scaled down to `maxSide` if
 * larger, with a "BEIA MOCK" mark in a colour derived from the input's bytes. The same bytes
 * in always give the same PNG out (M6). A decode failure is a 415.
 */
export async function renderResult(data: Buffer, inspected: InspectedImage, limits: ImageLimits): Promise<RenderedImages> {
  const scale = Math.min(1, limits.maxSide / Math.max(inspected.width, inspected.height));
  const width = Math.max(1, Math.round(inspected.width * scale));
  const height = Math.max(1, Math.round(inspected.height * scale));
  const digest = createHash('sha256').update(data).digest();
  const tint = [digest[0]! >> 1, digest[1]! >> 1, digest[2]! >> 1] as const;
  try {
    const result = await sharp(data, { ...DECODE, limitInputPixels: limits.maxInputPixels })
      .resize(width, height, { fit: 'fill' })
      .composite([{ input: Buffer.from(mockMarkSvg(width, height, tint)), top: 0, left: 0 }])
      .png({ compressionLevel: 6 })
      .toBuffer();
    return { result, width, height, inputPixels: inspected.width * inspected.height };
  } catch (error) {
    throw new ApiError('unsupported_file', `Failed to decode the image: ${reason(error)}. The file is damaged or truncated; send it again in full.`);
  }
}

/** The cropped image: the central half of the result in each direction, as a PNG (M6). */
export async function renderCropped(result: Buffer, width: number, height: number): Promise<Buffer> {
  const cropWidth = Math.max(1, Math.floor(width / 2));
  const cropHeight = Math.max(1, Math.floor(height / 2));
  return sharp(result)
    .extract({ left: Math.floor((width - cropWidth) / 2), top: Math.floor((height - cropHeight) / 2), width: cropWidth, height: cropHeight })
    .png({ compressionLevel: 6 })
    .toBuffer();
}

function reason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]!.trim().replace(/\.$/, '');
}
