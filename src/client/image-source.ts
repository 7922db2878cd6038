import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

/**
 * What `client.process()` accepts as the image: a file path (or `file:` URL), bytes, a Blob, or a
 * readable stream. A file is streamed from disk on every attempt; a stream is read into memory
 * once, since a retry needs the bytes again.
 */
export type ImageInput = string | URL | Uint8Array | Blob | NodeJS.ReadableStream | AsyncIterable<Uint8Array>;

/** An image ready to send, as many times as retries need. */
export interface ImageSource {
  filename: string;
  size: number;
  /** A fresh stream of the bytes, for one attempt. */
  open(): AsyncIterable<Uint8Array>;
}

/**
 * Turns any {@link ImageInput} into an {@link ImageSource}. A missing file fails here, before
 * anything is sent, with a message naming the path.
 *
 * @example
 * ```ts
 * const source = await imageSource('./photos/001.jpg');
 * source.filename; // '001.jpg'
 * ```
 */
export async function imageSource(input: ImageInput, filename?: string, signal?: AbortSignal): Promise<ImageSource> {
  if (typeof input === 'string' || input instanceof URL) {
    const path = input instanceof URL ? fileURLToPath(input) : input;
    let size: number;
    try {
      const info = await stat(path);
      if (!info.isFile()) throw new Error('it is not a regular file');
      size = info.size;
    } catch (error) {
      throw new Error(
        `Failed to read image ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}. Check the path.`,
        {
          cause: error,
        },
      );
    }
    return {
      filename: filename ?? basename(path),
      size,
      open: () => createReadStream(path),
    };
  }
  if (input instanceof Uint8Array) return bytesSource(input, filename ?? 'image');
  if (input instanceof Blob) {
    const name = filename ?? (input instanceof File ? input.name : 'image');
    return {
      filename: name,
      size: input.size,
      open: () => Readable.fromWeb(input.stream() as WebReadableStream<Uint8Array>),
    };
  }
  const chunks: Uint8Array[] = [];
  for await (const chunk of abortable(input as AsyncIterable<Uint8Array | string>, signal)) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  const streamPath = (input as { path?: unknown }).path;
  return bytesSource(Buffer.concat(chunks), filename ?? (typeof streamPath === 'string' ? basename(streamPath) : 'image'));
}

/** Iterates `source`, giving up with the signal's reason as soon as it aborts, even mid-wait. */
async function* abortable<T>(source: AsyncIterable<T>, signal: AbortSignal | undefined): AsyncIterable<T> {
  if (!signal) {
    yield* source;
    return;
  }
  signal.throwIfAborted();
  const iterator = source[Symbol.asyncIterator]();
  // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the signal's own reason, as fetch rejects with it
  const aborted = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
  aborted.catch(() => {});
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), aborted]);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    void iterator.return?.();
    (source as { destroy?: () => void }).destroy?.();
  }
}

function bytesSource(bytes: Uint8Array, filename: string): ImageSource {
  return {
    filename,
    size: bytes.byteLength,
    open: async function* () {
      yield bytes;
    },
  };
}

const SIGNATURES: Array<[string, (b: Uint8Array) => boolean]> = [
  ['jpeg', (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff],
  ['png', (b) => b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47],
  ['gif', (b) => ascii(b, 0, 4) === 'GIF8'],
  ['webp', (b) => ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP'],
  ['tiff', (b) => ascii(b, 0, 4) === 'II*\u0000' || ascii(b, 0, 4) === 'MM\u0000*'],
  ['bmp', (b) => ascii(b, 0, 2) === 'BM'],
  ['heif/avif', (b) => ascii(b, 4, 8) === 'ftyp'],
];

/**
 * The image format the first bytes announce, or undefined: used to skip files that are
 * certainly not images (a README in a folder of photos) without spending a request on them.
 *
 * @example
 * ```ts
 * sniffImageFormat(Buffer.from([0xff, 0xd8, 0xff, 0xe0])); // 'jpeg'
 * sniffImageFormat(Buffer.from('hello'));                   // undefined
 * ```
 */
export function sniffImageFormat(head: Uint8Array): string | undefined {
  return SIGNATURES.find(([, test]) => test(head))?.[0];
}

function ascii(bytes: Uint8Array, from: number, to: number): string {
  return String.fromCharCode(...bytes.subarray(from, to));
}
