import { randomBytes } from 'node:crypto';

/** One part of a multipart/mixed body (RFC 2046 section 5.1). */
export interface MixedPart {
  /** Header lines of the part, in order, e.g. `['Content-Type', 'image/png']`. */
  headers: ReadonlyArray<readonly [name: string, value: string]>;
  body: Uint8Array;
}

/** An encoded multipart/mixed body and the `Content-Type` header that goes with it. */
export interface EncodedMultipart {
  contentType: string;
  body: Buffer;
}

const CRLF = '\r\n';

/**
 * Encodes parts as a multipart/mixed body (RFC 2046). Without `boundary`, a random one that
 * occurs in no part, as section 5.1.1 requires. A given boundary is the caller's to have checked,
 * with {@link safeBoundary}, e.g. once for part bodies that it sends many times.
 *
 * @example
 * ```ts
 * const { contentType, body } = encodeMultipartMixed([
 *   { headers: [['Content-Type', 'text/plain']], body: Buffer.from('42') },
 * ]);
 * ```
 */
export function encodeMultipartMixed(parts: readonly MixedPart[], boundary?: string): EncodedMultipart {
  boundary ??= safeBoundary(parts.map((part) => part.body));
  if (!/^[0-9A-Za-z'()+_,\-./:=?]{1,70}$/.test(boundary)) {
    throw new TypeError(`Failed to encode multipart/mixed: boundary "${boundary}" is not a valid RFC 2046 boundary.`);
  }
  const chunks: Uint8Array[] = [];
  for (const part of parts) {
    const head = part.headers.map(([name, value]) => `${name}: ${value}${CRLF}`).join('');
    chunks.push(Buffer.from(`--${boundary}${CRLF}${head}${CRLF}`, 'latin1'), part.body, CRLF_BYTES);
  }
  chunks.push(Buffer.from(`--${boundary}--${CRLF}`));
  return { contentType: `multipart/mixed; boundary=${boundary}`, body: Buffer.concat(chunks) };
}

const CRLF_BYTES = Buffer.from(CRLF);

/**
 * A boundary that occurs in none of `bodies`: `preferred` when it does not, else a random one.
 *
 * @example
 * ```ts
 * const boundary = safeBoundary([png, croppedPng], `beia-${sha256.slice(0, 32)}`);
 * ```
 */
export function safeBoundary(bodies: readonly Uint8Array[], preferred?: string): string {
  const views = bodies.map((body) => Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  const absent = (candidate: string) => views.every((view) => view.indexOf(candidate, 0, 'latin1') === -1);
  if (preferred !== undefined && absent(preferred)) return preferred;
  for (;;) {
    const candidate = `beia-${randomBytes(16).toString('hex')}`;
    if (absent(candidate)) return candidate;
  }
}
