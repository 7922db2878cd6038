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
  const { contentType, chunks, length } = encodeMultipartMixedChunks(parts, boundary);
  return { contentType, body: Buffer.concat(chunks, length) };
}

/** A multipart/mixed body as the pieces to write in order, the part bodies among them uncopied. */
export interface EncodedMultipartChunks {
  contentType: string;
  chunks: Uint8Array[];
  /** Bytes of all the chunks: the `Content-Length`. */
  length: number;
}

/**
 * Like {@link encodeMultipartMixed}, without concatenating: the framing between two part bodies
 * is one small chunk, and each body is passed through as it is, so a large image is never copied.
 * A server writes the chunks in one go (one `writev`).
 */
const SMALL_PART = 4096;

export function encodeMultipartMixedChunks(parts: readonly MixedPart[], boundary?: string): EncodedMultipartChunks {
  boundary ??= safeBoundary(parts.map((part) => part.body));
  if (!/^[0-9A-Za-z'()+_,\-./:=?]{1,70}$/.test(boundary)) {
    throw new TypeError(`Failed to encode multipart/mixed: boundary "${boundary}" is not a valid RFC 2046 boundary.`);
  }
  const chunks: Uint8Array[] = [];
  let framing = '';
  for (const part of parts) {
    const head = part.headers.map(([name, value]) => `${name}: ${value}${CRLF}`).join('');
    framing += `--${boundary}${CRLF}${head}${CRLF}`;
    if (part.body.length >= SMALL_PART) {
      chunks.push(Buffer.from(framing, 'latin1'), part.body);
      framing = '';
    } else {
      // latin1 maps each byte to one character and back: a small body joins the framing exactly.
      framing += Buffer.from(part.body.buffer, part.body.byteOffset, part.body.byteLength).toString('latin1');
    }
    framing += CRLF;
  }
  chunks.push(Buffer.from(`${framing}--${boundary}--${CRLF}`, 'latin1'));
  return { contentType: `multipart/mixed; boundary=${boundary}`, chunks, length: chunks.reduce((sum, chunk) => sum + chunk.length, 0) };
}

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
