import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { safeBoundary } from '../../contract/index.js';
import { ApiError } from '../http/api-error.js';
import { drawMockMark } from './mock-mark.js';

export interface ImageLimits {
  /** Most pixels in an input image (decompression bombs). */
  maxInputPixels: number;
  /** Longest side of the result. */
  maxSide: number;
  /** The input formats accepted, as `images.formats` names them; all that sharp reads when absent. */
  formats?: readonly string[];
  /** Whole seconds one decode and render may take; 0 or absent: no bound. */
  renderTimeoutSeconds?: number;
}

export interface InspectedImage {
  format: string;
  width: number;
  height: number;
}

export interface RenderedImages {
  result: Buffer;
  /** The central half of the result in each direction, when it was asked for. */
  cropped?: Buffer;
  /** Pixels of the input, for the simulated processing time per megapixel. */
  inputPixels: number;
  width: number;
  height: number;
  /**
   * The boundary of a multipart/mixed answer that carries these images: taken from the input's
   * hash, so the same upload gets the same answer bytes (M6), and checked once to occur in neither PNG.
   */
  boundary: string;
  /** Set on an answer that came from the result cache. */
  cached?: true;
  /** Set on the images of a recording of the live API (`beia mock --recordings DIR`): not the mock's, not marked. */
  replayed?: true;
}

// 'warning' makes libvips fail on a truncated JPEG or PNG instead of filling the rest with grey.
const DECODE = { failOn: 'warning' } as const;
// zlib's fastest level and no filter search: the result and the crop are encoded in about the
// time the upload takes to decode, and the same pixels always give the same bytes (M6).
const PNG = { compressionLevel: 1, adaptiveFiltering: false } as const;

/**
 * Sets sharp up for a process that is a mock server: libvips' operation cache off (it keeps
 * decoded images of past requests; the mock's own result cache keeps finished answers instead,
 * bounded by `images.cacheBytes`) and one libvips thread per image (the mock renders several
 * images at once, one per core, rather than one image on every core). Global to the process's
 * sharp, so `beia mock` calls it and a library user decides for their own process.
 */
export function configureSharpForMock(): void {
  sharp.cache(false);
  sharp.concurrency(1);
}

/**
 * Reads an upload's header: what it is and how big, without decoding the pixels. A file that
 * is not an image, or has more pixels than the limit, is a 415. This is not proof that the
 * image decodes (a truncated JPEG has a good header); {@link renderImages} decodes it in full.
 */
export async function inspectImage(data: Buffer, limits: ImageLimits): Promise<InspectedImage> {
  let meta: Metadata;
  try {
    meta = await sharp(data, { ...DECODE, limitInputPixels: false }).metadata();
  } catch (error) {
    throw new ApiError('unsupported_file', `Failed to read the image: ${reason(error)}. Send a JPEG, PNG, WebP, GIF, TIFF or AVIF file.`);
  }
  const { width, height } = meta;
  const format = formatName(meta);
  if (!format || !width || !height) {
    throw new ApiError('unsupported_file', 'Failed to read the image: it has no size. Send a JPEG, PNG, WebP, GIF, TIFF or AVIF file.');
  }
  // Refused before any pixel is drawn: a format the mock was not asked to take can cost anything
  // to render (an SVG of a few hundred bytes can ask for a half-minute filter render).
  if (limits.formats && !limits.formats.includes(format)) {
    throw new ApiError(
      'unsupported_file',
      `The file is ${format.toUpperCase()}, which this mock does not accept (images.formats: ${limits.formats.join(', ')}). Send one of those, or add "${format}" to images.formats in the mock's config.`,
    );
  }
  if (width * height > limits.maxInputPixels) {
    throw new ApiError(
      'image_too_large',
      `The image is ${width}x${height} (${width * height} pixels), over the limit of ${limits.maxInputPixels}. Send a smaller image, or raise limits.maxInputPixels in the mock's config.`,
    );
  }
  return { format, width, height };
}

/** The format as `images.formats` names it: sharp says `heif` for AVIF too, told apart by its compression. */
function formatName(meta: Metadata): string | undefined {
  if (meta.format === 'heif' && meta.compression === 'av1') return 'avif';
  return meta.format;
}

/**
 * The mock's answer for an upload, from one decode: the image scaled down to `maxSide` if
 * larger, as 8-bit sRGB (with its alpha, if any), the "BEIA MOCK" mark drawn on its pixels in a
 * colour taken from `digest` (the upload's sha256), encoded as the result and, when asked, cut
 * to the cropped image. The same bytes in always give the same PNGs out (M6). A decode
 * failure, such as a truncated file, is a 415.
 */
export async function renderImages(
  data: Buffer,
  digest: Buffer,
  inspected: InspectedImage,
  limits: ImageLimits,
  includeCropped: boolean,
): Promise<RenderedImages> {
  const scale = Math.min(1, limits.maxSide / Math.max(inspected.width, inspected.height));
  const width = Math.max(1, Math.round(inspected.width * scale));
  const height = Math.max(1, Math.round(inspected.height * scale));
  // sharp stops a render past the bound itself (libvips checks it as it goes), which is what frees
  // the render place: a render cannot be stopped from outside once it runs.
  const seconds = limits.renderTimeoutSeconds ?? 0;
  const started = Date.now();
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    let pipeline = sharp(data, { ...DECODE, limitInputPixels: limits.maxInputPixels }).timeout({ seconds });
    if (width !== inspected.width || height !== inspected.height) pipeline = pipeline.resize(width, height, { fit: 'fill' });
    decoded = await pipeline.toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (error) {
    // A render killed at the bound fails with "timeout", or, as libvips warns when it kills an
    // image, with failOn's "warning treated as error": the time it took tells them apart.
    const ms = Date.now() - started;
    if (seconds > 0 && (isTimeout(error) || ms >= seconds * 1000)) throw tooSlow(inspected, seconds, ms);
    throw new ApiError('unsupported_file', `Failed to decode the image: ${reason(error)}. The file is damaged or truncated; send it again in full.`);
  }
  const { info } = decoded;
  let pixels = decoded.data;
  let channels = info.channels;
  if (channels !== 3 && channels !== 4) {
    // sRGB is always 3 bands, plus alpha; anything else is widened once rather than drawn wrongly.
    pixels = await sharp(pixels, { raw: { width: info.width, height: info.height, channels } })
      .toColourspace('srgb')
      .ensureAlpha()
      .raw()
      .toBuffer();
    channels = 4;
  }
  drawMockMark(pixels, info.width, info.height, channels, [digest[0]! >> 1, digest[1]! >> 1, digest[2]! >> 1]);

  const raw = { raw: { width: info.width, height: info.height, channels } };
  const cropWidth = Math.max(1, Math.floor(info.width / 2));
  const cropHeight = Math.max(1, Math.floor(info.height / 2));
  const [result, cropped] = await Promise.all([
    sharp(pixels, raw).png(PNG).toBuffer(),
    includeCropped
      ? sharp(pixels, raw)
          .extract({ left: Math.floor((info.width - cropWidth) / 2), top: Math.floor((info.height - cropHeight) / 2), width: cropWidth, height: cropHeight })
          .png(PNG)
          .toBuffer()
      : undefined,
  ]);
  const boundary = safeBoundary(cropped ? [result, cropped] : [result], `beia-${digest.subarray(0, 16).toString('hex')}`);
  const rendered: RenderedImages = { result, width: info.width, height: info.height, inputPixels: inspected.width * inspected.height, boundary };
  if (cropped) rendered.cropped = cropped;
  return rendered;
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && /timeout/i.test(error.message);
}

function tooSlow(inspected: InspectedImage, seconds: number, ms: number): ApiError {
  return new ApiError(
    'image_too_slow',
    `The ${inspected.format.toUpperCase()} image (${inspected.width}x${inspected.height}) took over ${seconds} s to decode and render (stopped after ${ms} ms), the bound of images.renderTimeoutSeconds. Send a simpler or smaller image, or raise images.renderTimeoutSeconds in the mock's config.`,
  );
}

function reason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]!.trim().replace(/\.$/, '');
}
