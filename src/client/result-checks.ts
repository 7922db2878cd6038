/** The default of `maxResultBytes`: 64 MiB, far above any result BEIA sends. */
export const DEFAULT_MAX_RESULT_BYTES = 64 * 1024 * 1024;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** The signature, then IHDR's length, type, 13 bytes of data and its CRC. */
const PNG_HEAD_BYTES = 8 + 4 + 4 + 13 + 4;

/** A body that can be read in chunks and destroyed, as undici's response body. */
type Body = AsyncIterable<Uint8Array> & { destroy(): unknown; on(event: 'error', listener: (error: Error) => void): unknown };

/**
 * Stops reading `body` and lets undici close the connection. undici's body reports being
 * destroyed as an 'error' (an AbortError): expected here, so it is listened to and dropped.
 */
export function discard(body: Body): void {
  body.on('error', () => {});
  body.destroy();
}

/**
 * Reads `body` to its end, or stops as soon as more than `limit` bytes came: then the body is
 * destroyed (undici closes the connection) and the bytes read are returned with `tooLarge`. Holds
 * at most `limit` bytes: the chunk that passes the limit is counted, never kept.
 */
export async function readBounded(body: Body, limit: number): Promise<{ bytes: Uint8Array; tooLarge: false } | { bytesRead: number; tooLarge: true }> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      discard(body);
      return { bytesRead: size, tooLarge: true };
    }
    chunks.push(chunk);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return { bytes, tooLarge: false };
}

/** Whether `bytes` start with the 8-byte PNG signature. */
export function hasPngSignature(bytes: Uint8Array): boolean {
  return bytes.length >= PNG_SIGNATURE.length && PNG_SIGNATURE.every((byte, i) => bytes[i] === byte);
}

/**
 * Why `bytes` are not a PNG, or undefined when they pass a structural check: the PNG signature,
 * then an `IHDR` chunk of length 13 whose width and height are from 1 to 2^31-1 (PNG section
 * 11.2.2). Nothing is decoded and no CRC is checked: it tells a result from an empty or
 * foreign answer, not a damaged image from a sound one.
 */
export function pngProblem(bytes: Uint8Array): string | undefined {
  if (!hasPngSignature(bytes)) return 'it does not start with the PNG signature';
  if (bytes.length === PNG_SIGNATURE.length) return 'it ends after the PNG signature, with no IHDR chunk';
  if (bytes.length < PNG_HEAD_BYTES) return `it ends ${bytes.length - PNG_SIGNATURE.length} bytes after the PNG signature, inside the IHDR chunk`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(8);
  const type = String.fromCharCode(...bytes.subarray(12, 16));
  if (type !== 'IHDR' || length !== 13) return `its first chunk is ${JSON.stringify(type)} of length ${length}, not IHDR of length 13`;
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) return `its IHDR gives a size of ${width}x${height}`;
  return undefined;
}
