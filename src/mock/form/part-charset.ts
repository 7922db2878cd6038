import { createRequire } from 'node:module';
import type busboy from 'busboy';

/** A part's header lines as busboy's header parser hands them over: lower-cased names, Latin-1 values. */
type PartHeader = Record<string, string[] | undefined>;
interface HeaderParser {
  cb: (header: PartHeader) => void;
}
interface ContentType {
  type: string;
  subtype: string;
  params: Record<string, string>;
}

// busboy's own Content-Type parser, so a part's type is read exactly as busboy reads it.
const { parseContentType } = createRequire(import.meta.url)('busboy/lib/utils.js') as {
  parseContentType(this: void, value: string): ContentType | undefined;
};

/**
 * Takes the decoding of text parts away from busboy: the returned function names the charset that
 * the part busboy is emitting declared (undefined: none), and every text value busboy emits is the
 * part's bytes as Latin-1 text. The parser must be made with `defCharset: 'latin1'`.
 *
 * Why: busboy 1.6.0 decodes text parts itself, well only in UTF-8, Latin-1 and UTF-16LE; for any
 * other declared charset (big5, iso-8859-2, foo) it emits `undefined` (mscdex/busboy#380: its
 * fallback decoder is an arrow function, so `.bind(charset)` never reaches `new TextDecoder(this)`),
 * and its field info does not say which charset was declared.
 *
 * How: busboy has no hook for part headers; its one header parser is reached through `_hparser`,
 * which busboy sets when a part's header begins (1.6.0, pinned in package.json). Each header, before
 * busboy reads it, loses its `charset` parameter, noted here; busboy then decodes the part with its
 * `defCharset`. The type stays as busboy's `parseContentType` read it, so the file-or-field decision
 * stays busboy's. A busboy without `_hparser` throws here, and a header busboy read without this hook
 * throws at the next field: both are 500s that name a bug, found by the tests, never a silent
 * misreading.
 */
export function takeOverCharsets(parser: busboy.Busboy): () => string | undefined {
  if (!Object.prototype.hasOwnProperty.call(parser, '_hparser')) throw new Error('busboy has no _hparser: update src/mock/form/part-charset.ts for it');
  let declared: string | undefined;
  let hooked = false;
  let current: unknown = (parser as unknown as { _hparser: unknown })._hparser;
  Object.defineProperty(parser, '_hparser', {
    configurable: true,
    enumerable: true,
    get: () => current,
    set(value: unknown) {
      current = value;
      if (hooked || !isHeaderParser(value)) return;
      hooked = true;
      const deliver = value.cb;
      value.cb = (header) => {
        declared = takeCharset(header);
        deliver.call(value, header);
      };
    },
  });
  return () => {
    if (!hooked) throw new Error("busboy emitted a part before its header reached beia-kit's charset hook (src/mock/form/part-charset.ts)");
    return declared;
  };
}

function isHeaderParser(value: unknown): value is HeaderParser {
  return typeof value === 'object' && value !== null && typeof (value as { cb?: unknown }).cb === 'function';
}

/** The `charset` parameter of the header's Content-Type, removed from it; undefined when it has none. */
function takeCharset(header: PartHeader): string | undefined {
  const value = header['content-type']?.[0];
  const parsed = value === undefined ? undefined : parseContentType(value);
  const charset = parsed?.params.charset;
  if (parsed === undefined || typeof charset !== 'string') return undefined;
  header['content-type'] = [`${parsed.type}/${parsed.subtype}`];
  return charset;
}

/**
 * A text part's bytes in the charset it declared, UTF-8 when none, as Node's `TextDecoder` (the
 * WHATWG Encoding Standard, with Node's ICU) reads them: bytes invalid in that charset become
 * U+FFFD, a byte order mark is kept. Undefined when `TextDecoder` does not know the charset.
 */
export function decodeText(bytes: Buffer, charset: string | undefined): string | undefined {
  if (charset === undefined) return bytes.toString('utf8');
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset, { ignoreBOM: true });
  } catch {
    return undefined;
  }
  return decoder.decode(bytes);
}
