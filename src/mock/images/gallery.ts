import { imageLibrary } from './renderer.js';

export type GalleryImage = 'upload' | 'result' | 'cropped';
export type GallerySize = 'thumb' | 'large';

/** The box each view is scaled into, keeping the aspect ratio. */
const BOXES: Record<GallerySize, { width: number; height: number; quality: number }> = {
  thumb: { width: 96, height: 72, quality: 70 },
  large: { width: 720, height: 540, quality: 82 },
};

interface Entry {
  images: Partial<Record<GalleryImage, Buffer>>;
  /**
   * Views drawn on demand, as the promise of the drawing: two pages asking at once share one, and
   * it stays as the view once drawn; `null` when the bytes are not an image sharp can read.
   */
  views: Map<string, Promise<Buffer | null>>;
  bytes: number;
}

export interface GalleryOptions {
  /** Uploads kept (with their result and cropped image); 0 keeps nothing. */
  entries: number;
  /** The most bytes kept, originals and rendered views together. */
  maxBytes: number;
  /** The most pixels an image may have to be shown (the mock's own limit). */
  maxInputPixels: number;
  /** The formats drawn (`images.formats`); an upload in another is shown as a placeholder, never rendered. */
  formats?: readonly string[];
  /** Whole seconds one view may take to draw (`images.renderTimeoutSeconds`); 0 or absent: no bound. */
  renderTimeoutSeconds?: number;
  /**
   * `start` (the default here) keeps images from the first request; `opened` only once the
   * dashboard has read the gallery (`has`, `stats` or `view`: its first `/ui/state` or
   * `/ui/images`), so a mock nobody watches holds no images (`dashboard.keepImagesFrom`).
   */
  keepFrom?: 'start' | 'opened';
}

/**
 * The images of the newest requests, for the dashboard: the upload, the result and the cropped
 * image of each, keyed by the upload's sha256 (which the journal records), so a journal row finds
 * its pictures. Originals are kept as they are (the mock holds them anyway) and the small views
 * are drawn only when the dashboard asks, so the hot path pays nothing but a map update. Bounded
 * by entries and by bytes; the oldest go first, and an upload larger than a quarter of the bound
 * is not kept at all. Per process: with several replicas, each shows what it served. With
 * `keepFrom: 'opened'` it keeps nothing until the dashboard first reads it.
 *
 * @example
 * ```ts
 * gallery.keep(sha256, { upload, result });
 * const jpeg = await gallery.view(sha256, 'result', 'thumb'); // undefined: not kept, or not an image
 * ```
 */
export class ImageGallery {
  readonly #options: GalleryOptions;
  /** Oldest first (a Map keeps insertion order). */
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;
  #active: boolean;

  constructor(options: GalleryOptions) {
    this.#options = options;
    this.#active = options.keepFrom !== 'opened';
  }

  /** Whether it keeps images now: from the start, or since the dashboard first read it. */
  get active(): boolean {
    return this.#active;
  }

  /** Keeps (or adds to) the images of an upload, as the newest. */
  keep(sha256: string, images: Partial<Record<GalleryImage, Buffer | undefined>>): void {
    if (this.#options.entries === 0 || !this.#active) return;
    const entry: Entry = this.#entries.get(sha256) ?? { images: {}, views: new Map(), bytes: 0 };
    this.#entries.delete(sha256);
    for (const kind of ['upload', 'result', 'cropped'] as const) {
      const image = images[kind];
      if (!image || entry.images[kind]) continue;
      if (entry.bytes + image.length > this.#options.maxBytes / 4) continue;
      entry.images[kind] = image;
      entry.bytes += image.length;
      this.#bytes += image.length;
    }
    // An upload too large to keep leaves no empty entry behind to push a real one out.
    if (entry.bytes === 0) return;
    this.#entries.set(sha256, entry);
    this.#trim();
  }

  /** Whether this upload's images are kept, and which. */
  has(sha256: string): GalleryImage[] {
    this.#active = true;
    const entry = this.#entries.get(sha256);
    return entry ? (Object.keys(entry.images) as GalleryImage[]) : [];
  }

  /** A JPEG of the image scaled into the size's box, drawn once; undefined when not kept or not an image. */
  async view(sha256: string, kind: GalleryImage, size: GallerySize): Promise<Buffer | undefined> {
    this.#active = true;
    const entry = this.#entries.get(sha256);
    const original = entry?.images[kind];
    if (!entry || !original) return undefined;
    const key = `${kind}:${size}`;
    let drawing = entry.views.get(key);
    if (!drawing) {
      drawing = this.#draw(original, BOXES[size], kind === 'upload').then((view) => {
        // Counted once, and only while the entry is still kept.
        if (view && this.#entries.get(sha256) === entry) {
          entry.bytes += view.length;
          this.#bytes += view.length;
          this.#trim();
        }
        return view;
      });
      entry.views.set(key, drawing);
    }
    return (await drawing) ?? undefined;
  }

  async #draw(original: Buffer, box: { width: number; height: number; quality: number }, upload: boolean): Promise<Buffer | null> {
    try {
      // sharp is loaded by the first view or render, set up as the mock sets it.
      await imageLibrary();
      const { default: sharp } = await import('sharp');
      const input = sharp(original, { failOn: 'error', limitInputPixels: this.#options.maxInputPixels });
      // The same bounds as the image route: an upload it refused (an SVG, say) is never rendered
      // here; results and crops are the mock's own PNGs.
      const { formats, renderTimeoutSeconds } = this.#options;
      if (formats && upload) {
        const meta = await input.metadata();
        const format = meta.format === 'heif' && meta.compression === 'av1' ? 'avif' : meta.format;
        if (!format || !formats.includes(format)) return null;
      }
      return await input
        .timeout({ seconds: renderTimeoutSeconds ?? 0 })
        .rotate()
        .resize({ width: box.width, height: box.height, fit: 'inside', withoutEnlargement: true })
        .flatten({ background: '#ffffff' })
        .jpeg({ quality: box.quality })
        .toBuffer();
    } catch {
      return null; // not an image: the page shows a placeholder
    }
  }

  stats(): { entries: number; bytes: number; maxEntries: number; maxBytes: number } {
    this.#active = true;
    return { entries: this.#entries.size, bytes: this.#bytes, maxEntries: this.#options.entries, maxBytes: this.#options.maxBytes };
  }

  #trim(): void {
    for (const [sha256, entry] of this.#entries) {
      if (this.#entries.size <= this.#options.entries && this.#bytes <= this.#options.maxBytes) return;
      this.#entries.delete(sha256);
      this.#bytes -= entry.bytes;
    }
  }
}
