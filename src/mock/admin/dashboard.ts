import { readFileSync } from 'node:fs';
import type { Context, Hono } from 'hono';
import type { GalleryImage, GallerySize, ImageGallery } from '../images/gallery.js';
import { CUT_MARK, JOURNAL_TEXT_LIMIT } from '../store/journal-bounds.js';
import type { JournalEntry, LicenseState, MockStore } from '../store/index.js';

/**
 * The dashboard (`GET /__admin/ui`): one page, its script and its style, read from `./ui/` next
 * to this module (the build copies them to `dist/`), with no build step and no outside asset.
 * The page holds no data: it asks for the admin token when the API wants one, and then reads
 * everything through `GET /__admin/ui/state` and the admin API's own routes.
 */
const ASSETS: Record<string, { type: string; body: string }> = {
  '/ui': { type: 'text/html; charset=utf-8', body: asset('dashboard.html') },
  '/ui/dashboard.js': { type: 'text/javascript; charset=utf-8', body: asset('dashboard.js') },
  '/ui/dashboard.css': { type: 'text/css; charset=utf-8', body: asset('dashboard.css') },
};

function asset(name: string): string {
  return readFileSync(new URL(`./ui/${name}`, import.meta.url), 'utf8');
}

/**
 * What the page may do: its own script and style, images drawn from blobs it fetched itself, calls
 * to this origin only. No inline script runs, so text that slipped into markup could not run either.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The page's files: no token needed, as they hold no data. */
export function dashboardAssets(admin: Hono): void {
  for (const [path, { type, body }] of Object.entries(ASSETS)) {
    admin.get(path, (c) =>
      c.body(body, 200, {
        'Content-Type': type,
        'Content-Security-Policy': CONTENT_SECURITY_POLICY,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        'Cache-Control': 'no-cache',
      }),
    );
  }
}

export interface DashboardDeps {
  store: MockStore;
  gallery: ImageGallery;
  /** The health body, as `GET /__admin/health` answers it. */
  health: () => Promise<Record<string, unknown>>;
  /** A license as the admin API shows it (key masked). */
  masked: (license: LicenseState) => unknown;
}

const IMAGES: readonly GalleryImage[] = ['upload', 'result', 'cropped'];
const SIZES: readonly GallerySize[] = ['thumb', 'large'];

/** The page's data: one poll for everything, and the images of the newest requests. Behind the admin token. */
export function dashboardData(admin: Hono, deps: DashboardDeps): void {
  admin.get('/ui/state', async (c) => {
    const limitText = c.req.query('limit') ?? '50';
    const limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      return invalid(c, `limit is "${limitText.slice(0, 20)}"; expected a whole number from 1 to 1000.`);
    }
    const filter = readRequestFilter(c.req.query('licenseId'), c.req.query('status'));
    if (typeof filter === 'string') return invalid(c, filter);
    const [health, licenses, faults, listed, chosen] = await Promise.all([
      deps.health(),
      deps.store.listLicenses(),
      deps.store.listFaults(),
      // The filter applies before the limit and the budget: the newest matching rows are sent.
      deps.store.listJournal({
        ...(filter.licenseId === undefined ? {} : { licenseId: filter.licenseId }),
        ...(filter.status === undefined ? { limit } : {}),
      }),
      filter.licenseId === undefined ? undefined : deps.store.getLicense(filter.licenseId),
    ]);
    const headline = chosen ?? licenses[0];
    const journal = filter.status === undefined ? listed : listed.filter((entry) => filter.status!.matches(entry.status)).slice(-limit);
    // One poll stays small however the mock is used: the newest rows up to a budget of bytes, and
    // the first licenses; the rest is counted, not sent (docs/security.md).
    const rows = newestWithin(journal, STATE_JOURNAL_BYTES);
    const images: Record<string, GalleryImage[]> = {};
    for (const entry of rows) {
      const sha256 = imageSha256(entry);
      if (sha256 && !(sha256 in images)) images[sha256] = deps.gallery.has(sha256);
    }
    return c.json({
      health,
      licenses: licenses.slice(0, STATE_LICENSES).map(deps.masked),
      licensesTotal: licenses.length,
      // The license the filter names (when the mock has it), or else the first: its credits head the page.
      license: headline ? deps.masked(headline) : null,
      faults: faults.slice(0, STATE_FAULTS),
      filter: {
        ...(filter.licenseId === undefined ? {} : { licenseId: filter.licenseId }),
        ...(filter.status === undefined ? {} : { status: filter.status.text }),
      },
      journal: rows,
      journalOmitted: journal.length - rows.length,
      images,
      gallery: deps.gallery.stats(),
    });
  });

  admin.get('/ui/images/:sha256/:image/:size', async (c) => {
    const { sha256, image, size } = c.req.param();
    if (!/^[0-9a-f]{64}$/.test(sha256) || !IMAGES.includes(image as GalleryImage) || !SIZES.includes(size as GallerySize)) {
      return c.json({ error: { code: 'admin_not_found', message: 'Images are at /__admin/ui/images/<sha256>/<upload|result|cropped>/<thumb|large>.' } }, 404);
    }
    const view = await deps.gallery.view(sha256, image as GalleryImage, size as GallerySize);
    // Nothing to show (not kept: older than the last dashboard.keepImages requests, or too large;
    // or not an image): 204, which the page shows as a placeholder and a browser does not log as an error.
    if (!view) return c.body(null, 204);
    return c.body(new Uint8Array(view), 200, { 'Content-Type': 'image/jpeg', 'Cache-Control': 'private, max-age=3600', 'X-Content-Type-Options': 'nosniff' });
  });
}

function invalid(c: Context, message: string): Response {
  return c.json({ error: { code: 'admin_invalid_request', message } }, 400);
}

/** The longest license id the journal holds: one cut at {@link JOURNAL_TEXT_LIMIT}, with its mark. */
const LICENSE_ID_CHARS = JOURNAL_TEXT_LIMIT + CUT_MARK.length;

export interface RequestFilter {
  licenseId?: string;
  status?: { text: string; matches: (status: number) => boolean };
}

/**
 * The dashboard's filter of the requests, from `?licenseId=` and `?status=`: a license id as the
 * journal shows it, and a status class (`2xx`, `4xx`…) or an exact status (`429`). A message
 * saying what is accepted when a value is not.
 */
export function readRequestFilter(licenseId: string | undefined, status: string | undefined): RequestFilter | string {
  const filter: RequestFilter = {};
  if (licenseId !== undefined) {
    if (licenseId.length === 0 || licenseId.length > LICENSE_ID_CHARS) {
      return `licenseId is ${licenseId.length === 0 ? 'empty' : `${licenseId.length} characters long`}; expected a license id of 1 to ${LICENSE_ID_CHARS} characters, as the journal shows it (or no licenseId, for every license).`;
    }
    filter.licenseId = licenseId;
  }
  if (status !== undefined) {
    const text = status.trim().toLowerCase();
    const byClass = /^([1-5])xx$/.exec(text);
    const exact = /^[1-5][0-9][0-9]$/.test(text) ? Number(text) : undefined;
    if (byClass) {
      const hundreds = Number(byClass[1]);
      filter.status = { text, matches: (code) => Math.floor(code / 100) === hundreds };
    } else if (exact !== undefined) {
      filter.status = { text, matches: (code) => code === exact };
    } else {
      return `status is "${status.slice(0, 20)}"; expected a class from 1xx to 5xx (e.g. 4xx) or an exact status from 100 to 599 (e.g. 429), or no status, for every status.`;
    }
  }
  return filter;
}

/** The most bytes of journal rows (as JSON) in one `/ui/state` answer. */
export const STATE_JOURNAL_BYTES = 256 * 1024;
/** The most licenses, and armed faults, in one `/ui/state` answer. */
export const STATE_LICENSES = 200;
const STATE_FAULTS = 200;

/** The newest entries of `journal` (oldest first, as the store lists it) whose JSON fits in `budget` bytes, in the same order. */
function newestWithin(journal: readonly JournalEntry[], budget: number): JournalEntry[] {
  // The array's JSON: each row and a comma, but one comma fewer than rows, and two brackets.
  let bytes = 1;
  let first = journal.length;
  while (first > 0) {
    bytes += Buffer.byteLength(JSON.stringify(journal[first - 1])) + 1;
    if (bytes > budget) break;
    first -= 1;
  }
  return journal.slice(first);
}

/** The sha256 of a journal entry's uploaded image, when it sent one. */
export function imageSha256(entry: JournalEntry): string | undefined {
  return entry.parts.find((part) => part.name === 'image' && part.kind === 'file')?.sha256;
}
