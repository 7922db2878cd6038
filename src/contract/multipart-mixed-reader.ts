import { parseMultipart } from '@remix-run/multipart-parser';
import { UnreadableResponseError } from './api-errors.js';
import { PART, type PartName } from './protocol.js';

/** One part of a multipart/mixed answer, with the labels a reader may find it by. */
export interface ReceivedPart {
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** From `Content-Disposition: ...; name="..."`. */
  name?: string;
  /** From `Content-ID: <...>`, without the angle brackets. */
  contentId?: string;
  contentType?: string;
  bytes: Uint8Array;
}

/** The parts of the image answer, found by name (D5). */
export interface ImageBundle {
  result: Uint8Array;
  cropped?: Uint8Array;
  /** The `credits` part as a number, when it had one. */
  credits?: number;
  /** How the parts were told apart: what the server labels them by. */
  labelledBy: 'content-disposition' | 'content-id' | 'order';
}

/**
 * Splits a multipart/mixed body (RFC 2046) into parts. Throws {@link UnreadableResponseError}
 * naming what it saw when the body is not multipart/mixed.
 *
 * @example
 * ```ts
 * const parts = decodeMultipartMixed(body, response.headers['content-type']);
 * parts.map((p) => p.name); // ['result', 'cropped', 'credits']
 * ```
 */
export function decodeMultipartMixed(body: Uint8Array, contentType: string): ReceivedPart[] {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const value = boundary?.[1] ?? boundary?.[2];
  if (!/^multipart\/mixed\b/i.test(contentType.trim()) || !value) {
    throw new UnreadableResponseError(`Failed to read the answer: expected multipart/mixed with a boundary, got Content-Type "${contentType}".`);
  }
  try {
    const parts = parseMultipart(body, { boundary: value, maxFileSize: 512 * 1024 * 1024, maxTotalSize: 1024 * 1024 * 1024 });
    return [...parts].map((part) => {
      const headers: Record<string, string> = {};
      for (const [name, text] of Object.entries(part.headers)) if (typeof text === 'string') headers[name.toLowerCase()] = text;
      const received: ReceivedPart = { headers, bytes: part.bytes };
      const name = /\bname\s*=\s*(?:"([^"]*)"|([^;\s]+))/i.exec(headers['content-disposition'] ?? '');
      if (name) received.name = name[1] ?? name[2]!;
      const id = /^\s*<?([^>]*)>?\s*$/.exec(headers['content-id'] ?? '')?.[1];
      if (id) received.contentId = id;
      if (headers['content-type']) received.contentType = headers['content-type'];
      return received;
    });
  } catch (error) {
    throw new UnreadableResponseError(`Failed to read the multipart/mixed answer (boundary "${value}", ${body.length} bytes): ${(error as Error).message}.`);
  }
}

/**
 * Finds `result`, `cropped` and `credits` among the parts: by `Content-Disposition` name, else by
 * `Content-ID` (`<result>` or `<result@host>`), else by order and content type (first image is the
 * result, second the cropped one, a text or JSON part the credits), because nobody outside BEIA
 * knows exactly how the live API labels them (CONTRACT.md, unknowns).
 *
 * @example
 * ```ts
 * const bundle = readImageBundle(decodeMultipartMixed(body, contentType));
 * await writeFile('result.png', bundle.result);
 * ```
 */
export function readImageBundle(parts: readonly ReceivedPart[]): ImageBundle {
  const byName = pick(parts, (part) => part.name?.toLowerCase());
  const byId = pick(parts, (part) => part.contentId?.toLowerCase().split('@')[0]);
  let found: Partial<Record<PartName, ReceivedPart>>;
  let labelledBy: ImageBundle['labelledBy'];
  if (byName.result) [found, labelledBy] = [byName, 'content-disposition'];
  else if (byId.result) [found, labelledBy] = [byId, 'content-id'];
  else [found, labelledBy] = [byOrder(parts), 'order'];

  if (!found.result) {
    const seen = parts
      .map((p, i) => `#${i + 1} ${p.contentType ?? 'no type'}${p.name ? ` name=${p.name}` : ''}${p.contentId ? ` id=${p.contentId}` : ''}`)
      .join('; ');
    throw new UnreadableResponseError(`Failed to find the "result" image in the multipart/mixed answer; its parts were: ${seen || 'none'}.`);
  }
  const bundle: ImageBundle = { result: found.result.bytes, labelledBy };
  if (found.cropped) bundle.cropped = found.cropped.bytes;
  const creditsText = found.credits ? new TextDecoder().decode(found.credits.bytes) : undefined;
  const credits = creditsText === undefined ? undefined : readCredits(creditsText);
  if (credits !== undefined) bundle.credits = credits;
  return bundle;
}

function pick(parts: readonly ReceivedPart[], label: (part: ReceivedPart) => string | undefined): Partial<Record<PartName, ReceivedPart>> {
  const found: Partial<Record<PartName, ReceivedPart>> = {};
  for (const part of parts) {
    const key = label(part);
    if (key === PART.result || key === PART.cropped || key === PART.credits) found[key] ??= part;
  }
  return found;
}

function byOrder(parts: readonly ReceivedPart[]): Partial<Record<PartName, ReceivedPart>> {
  const images = parts.filter((part) => /^image\//i.test(part.contentType ?? '') || isPng(part.bytes));
  const credits = parts.find((part) => !images.includes(part) && /^(text\/|application\/json)/i.test(part.contentType ?? 'text/plain'));
  const found: Partial<Record<PartName, ReceivedPart>> = {};
  if (images[0]) found.result = images[0];
  if (images[1]) found.cropped = images[1];
  if (credits) found.credits = credits;
  return found;
}

function isPng(bytes: Uint8Array): boolean {
  return bytes.length > 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
}

/** The credits part: a bare integer, or JSON with a number in it (`{"credits":12}`). */
function readCredits(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  try {
    const json = JSON.parse(trimmed) as unknown;
    if (typeof json === 'number' && Number.isInteger(json)) return json;
    if (json && typeof json === 'object') {
      const value = Object.values(json as Record<string, unknown>).find((v) => typeof v === 'number' && Number.isInteger(v));
      return value as number | undefined;
    }
  } catch {
    // not JSON either
  }
  return undefined;
}
