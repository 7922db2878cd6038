import { availableParallelism } from 'node:os';
import { Semaphore } from '../../shared/index.js';
import { ClientGoneError } from '../http/api-error.js';
import { inspectImage, renderImages, type ImageLimits, type RenderedImages } from './render.js';
import { ResultCache, type CacheStats } from './result-cache.js';

export interface RendererOptions extends ImageLimits {
  /** Bytes of finished answers kept for images seen again; 0 keeps none. */
  cacheBytes: number;
  /** sharp renders at once in this process; the others wait. Default: the cores, at least 2. */
  concurrency?: number;
}

/** An upload to render: its bytes and their sha256, which the form parser already computed. */
export interface ImageInput {
  data: Buffer;
  sha256: Buffer;
}

/**
 * The image work of one mock process: the result cache in front, then a bounded number of sharp
 * renders at once. Per process like the upload budget, not in `MockStore`: it holds no contract
 * state, only answers that any replica would compute the same.
 */
export class ImageRenderer {
  readonly #limits: ImageLimits;
  readonly #cache: ResultCache;
  readonly #permits: Semaphore;

  constructor(options: RendererOptions) {
    this.#limits = { maxInputPixels: options.maxInputPixels, maxSide: options.maxSide };
    if (options.formats) this.#limits.formats = options.formats;
    if (options.renderTimeoutSeconds !== undefined) this.#limits.renderTimeoutSeconds = options.renderTimeoutSeconds;
    this.#cache = new ResultCache(options.cacheBytes);
    this.#permits = new Semaphore(options.concurrency ?? Math.max(2, availableParallelism()));
  }

  /**
   * The rendered images of `image`, from the cache or from sharp. A file that is not an image,
   * too many pixels, or one that does not decode in full is a 415; a client that leaves while
   * waiting for a render is a {@link ClientGoneError}. A render that has started goes on to the
   * end when the client leaves (and fills the cache); the caller stops waiting with `untilAborted`.
   */
  async render(image: ImageInput, withCropped: boolean, signal: AbortSignal): Promise<RenderedImages> {
    const key = `${image.sha256.toString('hex')}:${this.#limits.maxSide}:${this.#limits.maxInputPixels}`;
    const hit = this.#cache.get(key, withCropped);
    if (hit) return { ...hit, cached: true };
    const inspected = await inspectImage(image.data, this.#limits);
    // Renders are bounded: a client that leaves frees its slot at once, but its render keeps its
    // permit until sharp is done, so upload-and-abort loops cannot pile up decodes.
    const release = await this.#permits.acquire(signal).catch(() => {
      throw new ClientGoneError('client closed the connection while waiting to be processed');
    });
    const render = renderImages(image.data, image.sha256, inspected, this.#limits, withCropped).then((rendered) => this.#cache.put(key, rendered));
    render.then(release, release);
    return render;
  }

  cacheStats(): CacheStats {
    return this.#cache.stats();
  }
}
