import { availableParallelism } from 'node:os';
import { Semaphore } from '../../shared/index.js';
import { safeBoundary } from '../../contract/index.js';
import { ApiError, ClientGoneError } from '../http/api-error.js';
import type * as RenderModule from './render.js';
import type { ImageLimits, RenderedImages } from './render.js';
import { KnownUploads } from './known-uploads.js';
import { ResultCache, type CacheStats } from './result-cache.js';

export interface RendererOptions extends ImageLimits {
  /** Bytes of finished answers kept for images seen again; 0 keeps none. */
  cacheBytes: number;
  /** sharp renders at once in this process; the others wait. Default: the cores, at least 2. */
  concurrency?: number;
  /** Recordings of the live API, in front of the cache: an upload recorded gets its recorded images (`beia mock --recordings DIR`). */
  replay?: ReplayOptions;
}

type ImageLibrary = typeof RenderModule;
let library: Promise<ImageLibrary> | undefined;
let configureOnLoad = false;

/**
 * The image code and sharp, loaded by the first image that needs them (a render, a view of the
 * dashboard), not when the mock starts: a mock is ready before sharp is loaded.
 */
export function imageLibrary(): Promise<ImageLibrary> {
  return (library ??= import('./render.js').then((loaded) => {
    if (configureOnLoad) loaded.configureSharpForMock();
    return loaded;
  }));
}

/** `configureSharpForMock` as soon as sharp is loaded, without loading it now (what `beia mock` calls). */
export function configureSharpWhenLoaded(): void {
  configureOnLoad = true;
  if (library) void library.then((loaded) => loaded.configureSharpForMock());
}

/** Where recorded answers come from (a `RecordingFolder`), and whether an upload without one is refused. */
export interface ReplayOptions {
  recordings: {
    readonly dir: string;
    find(uploadSha256: string, includeCroppedImage: boolean): Promise<{ result: Buffer; cropped?: Buffer; width: number; height: number } | undefined>;
  };
  /** Refuse an upload without a recording (415 `no_recording`, nothing spent) instead of rendering the mock's own image. */
  strict?: boolean;
}

/** An upload to render: its bytes and their sha256 (computed when first read; the renderer sets it when it recognises the bytes). */
export interface ImageInput {
  data: Buffer;
  sha256: Buffer;
}

/**
 * The image work of one mock process: recordings of the live API in front when replaying, then
 * the result cache, then a bounded number of sharp renders at once. Per process like the upload budget, not in `MockStore`: it holds no contract
 * state, only answers that any replica would compute the same.
 */
export class ImageRenderer {
  readonly #limits: ImageLimits;
  readonly #cache: ResultCache;
  readonly #permits: Semaphore;
  readonly #replay: ReplayOptions | undefined;
  /** The uploads whose results the cache may hold, recognised by their bytes without hashing them again. */
  readonly #known: KnownUploads;

  constructor(options: RendererOptions) {
    this.#replay = options.replay;
    this.#limits = { maxInputPixels: options.maxInputPixels, maxSide: options.maxSide };
    if (options.formats) this.#limits.formats = options.formats;
    if (options.renderTimeoutSeconds !== undefined) this.#limits.renderTimeoutSeconds = options.renderTimeoutSeconds;
    this.#cache = new ResultCache(options.cacheBytes);
    // The uploads of the answers cached, recognised without a hash: up to an eighth of the cache's bytes more.
    this.#known = new KnownUploads(options.cacheBytes === 0 ? 0 : 1024, Math.floor(options.cacheBytes / 8));
    this.#permits = new Semaphore(options.concurrency ?? Math.max(2, availableParallelism()));
  }

  /**
   * The rendered images of `image`, from the cache or from sharp. A file that is not an image,
   * too many pixels, or one that does not decode in full is a 415; a client that leaves while
   * waiting for a render is a {@link ClientGoneError}. A render that has started goes on to the
   * end when the client leaves (and fills the cache); the caller stops waiting with `untilAborted`.
   */
  async render(image: ImageInput, withCropped: boolean, signal: AbortSignal): Promise<RenderedImages> {
    if (this.#replay) {
      const replayed = await this.#replayed(image, withCropped);
      if (replayed) return replayed;
    }
    const known = this.#known.recognise(image.data);
    if (known) image.sha256 = known;
    const key = `${image.sha256.toString('hex')}:${this.#limits.maxSide}:${this.#limits.maxInputPixels}`;
    const hit = this.#cache.get(key, withCropped);
    if (hit) return { ...hit, cached: true };
    const { inspectImage, renderImages } = await imageLibrary();
    const inspected = await inspectImage(image.data, this.#limits);
    // Renders are bounded: a client that leaves frees its slot at once, but its render keeps its
    // permit until sharp is done, so upload-and-abort loops cannot pile up decodes.
    const release = await this.#permits.acquire(signal).catch(() => {
      throw new ClientGoneError('client closed the connection while waiting to be processed');
    });
    const render = renderImages(image.data, image.sha256, inspected, this.#limits, withCropped).then((rendered) => {
      this.#known.remember(image.data, image.sha256);
      return this.#cache.put(key, rendered);
    });
    render.then(release, release);
    return render;
  }

  /**
   * The recorded answer of an upload, byte for byte, framed as the mock frames its own (M5);
   * undefined to render it, or a 415 `no_recording` in strict replay.
   */
  async #replayed(image: ImageInput, withCropped: boolean): Promise<RenderedImages | undefined> {
    const { recordings, strict } = this.#replay!;
    const sha256 = image.sha256.toString('hex');
    const found = await recordings.find(sha256, withCropped).catch((error: unknown) => {
      throw new ApiError('internal_error', `${(error as Error).message} No credit was spent.`);
    });
    if (!found) {
      if (!strict) return undefined;
      throw new ApiError(
        'no_recording',
        `No recording of this upload (sha256 ${sha256}, includeCroppedImage=${withCropped}) in ${recordings.dir}, and this mock replays recordings only (--recordings-strict). Record it once: beia mock --record-from https://aws.beiatechnology.com/beia-api/v1/image --recordings ${recordings.dir}, then send this upload through it. No credit was spent.`,
      );
    }
    const bodies = found.cropped ? [found.result, found.cropped] : [found.result];
    // The pixels of the result stand for the input's (M8's time per megapixel): the live answer does not say.
    const replayed: RenderedImages = {
      result: found.result,
      width: found.width,
      height: found.height,
      inputPixels: found.width * found.height,
      boundary: safeBoundary(bodies, `beia-${image.sha256.subarray(0, 16).toString('hex')}`),
      replayed: true,
    };
    if (found.cropped) replayed.cropped = found.cropped;
    return replayed;
  }

  cacheStats(): CacheStats {
    return this.#cache.stats();
  }
}
