import type { RenderedImages } from './render.js';

/** What the cache holds now and how it has done since the mock started. */
export interface CacheStats {
  entries: number;
  bytes: number;
  maxBytes: number;
  hits: number;
  misses: number;
}

/** Bytes an entry costs: its PNGs, plus a little for the key and the record. */
function entryBytes(rendered: RenderedImages): number {
  return rendered.result.length + (rendered.cropped?.length ?? 0) + 256;
}

/**
 * The finished answers of images seen before, least recently used out first, bounded by the
 * bytes of their PNGs. Rendering is deterministic (M6), so a hit is the same bytes a new render
 * would give; only the image work is skipped, never a check or a credit. The key names the
 * upload's bytes (sha256) and every setting that changes the answer.
 *
 * @example
 * ```ts
 * const cache = new ResultCache(64 * 1024 * 1024);
 * const key = resultKey(sha256, limits);
 * const rendered = cache.get(key, wantCropped) ?? cache.put(key, await renderImages(...));
 * ```
 */
export class ResultCache {
  readonly maxBytes: number;
  readonly #entries = new Map<string, RenderedImages>();
  #bytes = 0;
  #hits = 0;
  #misses = 0;

  constructor(maxBytes: number) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new RangeError(`The cache bound is ${maxBytes} bytes; expected a whole number of at least 0.`);
    this.maxBytes = maxBytes;
  }

  /** The entry under `key`, if it has the cropped image when `withCropped` asks for it. */
  get(key: string, withCropped: boolean): RenderedImages | undefined {
    const entry = this.#entries.get(key);
    if (!entry || (withCropped && !entry.cropped)) {
      this.#misses += 1;
      return undefined;
    }
    this.#hits += 1;
    // Most recently used last: Map keeps insertion order.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry;
  }

  /**
   * Keeps `rendered` under `key` and returns it. An entry over an eighth of the bound is not
   * kept: one large image would push out many small ones, and is cheap to render next to its upload.
   */
  put(key: string, rendered: RenderedImages): RenderedImages {
    const size = entryBytes(rendered);
    if (size > this.maxBytes / 8) return rendered;
    const old = this.#entries.get(key);
    // The same image without its crop adds nothing to an entry that has it.
    if (old?.cropped && !rendered.cropped) return rendered;
    if (old) {
      this.#entries.delete(key);
      this.#bytes -= entryBytes(old);
    }
    const bytes = size;
    for (const [oldest, entry] of this.#entries) {
      if (this.#bytes + bytes <= this.maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= entryBytes(entry);
    }
    if (this.#bytes + bytes <= this.maxBytes) {
      this.#entries.set(key, rendered);
      this.#bytes += bytes;
    }
    return rendered;
  }

  stats(): CacheStats {
    return { entries: this.#entries.size, bytes: this.#bytes, maxBytes: this.maxBytes, hits: this.#hits, misses: this.#misses };
  }
}
