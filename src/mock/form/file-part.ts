import { createHash, type Hash } from 'node:crypto';

/**
 * One file part as its bytes arrive: counted, hashed unless its content must stay secret, and, for
 * the part that is kept (the image), collected. `add` is bound once per part and does no allocation
 * of its own per chunk.
 */
export class FilePart {
  /** Bytes seen so far. */
  size = 0;
  readonly #hash: Hash | undefined;
  readonly #collect: Collector | undefined;

  /**
   * @param hashed false for a part whose content is secret: not even its hash is kept.
   * @param keepBound undefined: the bytes are dropped; else they are kept, in one buffer of this many
   *   bytes when it is over 0 (see {@link Collector}).
   */
  constructor(hashed: boolean, keepBound: number | undefined) {
    this.#hash = hashed ? createHash('sha256') : undefined;
    this.#collect = keepBound === undefined ? undefined : new Collector(keepBound);
  }

  /** The listener of the part stream's `data`. */
  readonly add = (chunk: Buffer): void => {
    this.#collect?.add(chunk);
    this.#hash?.update(chunk);
    this.size += chunk.length;
  };

  /** The sha256 of the bytes seen; undefined when the part is not hashed. Once, at the part's end. */
  digest(): Buffer | undefined {
    return this.#hash?.digest();
  }

  /** The bytes, when the part keeps them. */
  bytes(): Buffer | undefined {
    return this.#collect?.bytes();
  }
}

/**
 * Gathers a file's chunks into one buffer. With a bound known in advance (the request's
 * Content-Length), into one buffer of that size: the memory is only reserved, and pages become
 * resident as bytes are written, so a slow sender holds what it sent, and the upload never exists
 * twice (chunks, then their concatenation) while the old chunks wait for the garbage collector.
 */
class Collector {
  #target: Buffer | undefined;
  #filled = 0;
  readonly #chunks: Buffer[] = [];

  constructor(bound: number) {
    this.#target = bound > 0 ? Buffer.allocUnsafeSlow(bound) : undefined;
  }

  add(chunk: Buffer): void {
    const target = this.#target;
    if (target && this.#filled + chunk.length <= target.length) {
      chunk.copy(target, this.#filled);
    } else {
      if (target) this.#chunks.push(target.subarray(0, this.#filled));
      this.#target = undefined;
      this.#chunks.push(chunk);
    }
    this.#filled += chunk.length;
  }

  bytes(): Buffer {
    return this.#target ? this.#target.subarray(0, this.#filled) : Buffer.concat(this.#chunks, this.#filled);
  }
}
