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
 * Encodes parts as a multipart/mixed body (RFC 2046). The boundary is random unless given, and
 * is checked not to occur in any part, as section 5.1.1 requires.
 *
 * @example
 * ```ts
 * const { contentType, body } = encodeMultipartMixed([
 *   { headers: [['Content-Type', 'text/plain']], body: Buffer.from('42') },
 * ]);
 * ```
 */
export function encodeMultipartMixed(parts: readonly MixedPart[], boundary = newBoundary(parts)): EncodedMultipart {
  if (!/^[0-9A-Za-z'()+_,\-./:=?]{1,70}$/.test(boundary)) {
    throw new TypeError(`Failed to encode multipart/mixed: boundary "${boundary}" is not a valid RFC 2046 boundary.`);
  }
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const head = part.headers.map(([name, value]) => `${name}: ${value}${CRLF}`).join('');
    chunks.push(Buffer.from(`--${boundary}${CRLF}${head}${CRLF}`, 'latin1'), Buffer.from(part.body), Buffer.from(CRLF));
  }
  chunks.push(Buffer.from(`--${boundary}--${CRLF}`));
  return { contentType: `multipart/mixed; boundary=${boundary}`, body: Buffer.concat(chunks) };
}

function newBoundary(parts: readonly MixedPart[]): string {
  for (;;) {
    const candidate = `beia-${randomBytes(16).toString('hex')}`;
    const needle = Buffer.from(candidate);
    if (parts.every((part) => Buffer.from(part.body).indexOf(needle) === -1)) return candidate;
  }
}
