/** The checks of the image route, each answering one status (CONTRACT.md M1). */
export const CHECK_NAMES = ['ip-allowlist', 'content-type', 'form', 'license-header', 'auth', 'credits', 'slot', 'image'] as const;

export type CheckName = (typeof CHECK_NAMES)[number];

/** One license the mock accepts. */
export interface LicenseConfig {
  licenseId: string;
  apiKey: string;
  /** Credits left; one is spent for each 200 (M2). */
  credits: number;
  /** Source addresses or CIDR blocks allowed to call with this license (D8). */
  allowedIps: string[];
  /** Images in processing at once for this license before a 429 (M7). */
  maxConcurrent: number;
}

/** The whole configuration of the mock: one typed object, validated once at the edge. */
/** The errors that may carry `Credits-Remaining` once the license is known (M3; never 401 nor 403). */
export const CREDITS_STATUSES = [400, 402, 415, 429, 500] as const;
export type CreditsStatus = (typeof CREDITS_STATUSES)[number];

/** Whether an error of this status carries `Credits-Remaining`, by `rules.creditsRemainingOnErrors`. */
export function tellsCreditsOn(setting: boolean | readonly number[], status: number): boolean {
  if (status === 401 || status === 403) return false;
  return setting === true || (Array.isArray(setting) && setting.includes(status));
}

export interface MockConfig {
  licenses: LicenseConfig[];
  processing: {
    /** Fixed processing time of every image (M8). */
    delayMs: number;
    /** Extra processing time per megapixel of the input (M8). */
    msPerMegapixel: number;
    /** Up to this much more time, drawn at random per request (M8). */
    jitterMs: number;
    /** Images in processing at once across all licenses before a 429 (M7). */
    maxConcurrent: number;
    /** Value of `Retry-After` on a 429, in seconds. */
    retryAfterSeconds: number;
  };
  limits: {
    /** Largest accepted image file (exactly this is accepted); larger is a 413 (M10). */
    maxUploadBytes: number;
    /** Largest accepted text field (exactly this is accepted). */
    maxFieldBytes: number;
    /** Most parts (fields and files together) in one form (exactly this is accepted). */
    maxParts: number;
    /** Most pixels in an input image (decompression bombs; exactly this is accepted); more is a 415 (M10). */
    maxInputPixels: number;
    /** Time allowed to receive the whole request; a slower sender gets a 408. */
    requestTimeoutMs: number;
    /** Least body bytes per second, averaged over each `minRateWindowMs`; a slower body is a 408. 0: no check. */
    minBytesPerSecond: number;
    /** The window of that average, and the grace before it is first checked. */
    minRateWindowMs: number;
    /** Bytes of uploads held in memory at once, until their requests end; the upload that would pass it is a 429. */
    maxBufferedBytes: number;
    /** Uploads being received at once; one more is a 429. */
    maxConcurrentUploads: number;
    /** The most of maxBufferedBytes and of maxConcurrentUploads one client address may hold (0 to 1). */
    maxClientShare: number;
  };
  images: {
    /** The result keeps the input's size, scaled down to fit this many pixels per side (M6). */
    maxSide: number;
    /** Bytes of finished answers kept for images sent again (checks and credits still apply); 0: no cache. */
    cacheBytes: number;
    /** The input formats accepted, as sharp names them (`avif` is sharp's `heif` holding AV1); any other is a 415 before any render. */
    formats: ImageFormat[];
    /** Whole seconds one decode and render may take; a longer one is stopped and answered 415 `image_too_slow`. 0: no bound. */
    renderTimeoutSeconds: number;
  };
  dashboard: {
    /** Requests whose images (upload, result, cropped) the dashboard keeps to show, newest first; 0: none. */
    keepImages: number;
    /** The most bytes those images and their thumbnails take, together. */
    imageBytes: number;
    /**
     * From when the dashboard's images are kept: `start`, from the first request; `opened`, only
     * once the dashboard has first been read (a mock nobody watches then holds no images).
     */
    keepImagesFrom: 'start' | 'opened';
  };
  network: {
    /** Peers whose `X-Forwarded-For` is believed. Empty: the header is ignored. */
    trustedProxies: string[];
  };
  rules: {
    /** Order of the checks; the first that fails answers (M1). */
    checkOrder: CheckName[];
    /** A missing `License-Id` header is a 400 (D3); false accepts requests without it. */
    requireLicenseHeader: boolean;
    /**
     * Send `Credits-Remaining` on errors once the license is known (M3): on every such error, on
     * none, or on these statuses only (among 400, 402, 415, 429, 500), as a live API was seen to.
     */
    creditsRemainingOnErrors: boolean | CreditsStatus[];
    /** Only `true/false/1/0` for `includeCroppedImage`; false reads anything else as `lenientBooleans` (M4). */
    strictBooleans: boolean;
    /** With `strictBooleans` off, what any other value of `includeCroppedImage` reads as. */
    lenientBooleans: boolean;
    /** The answer to an unknown license: 401 (invalid license), or 403 (not authorised for this address), as a live API may choose. */
    unknownLicenseStatus: 401 | 403;
    /** How multipart/mixed parts are labelled (M5). */
    partLabels: 'content-disposition' | 'content-id' | 'both';
    /** Body of the `credits` part: the bare integer, or `{"credits":N}` (M5). */
    creditsPartFormat: 'text' | 'json';
    /** Error bodies: the JSON envelope, plain text, or none (M9). */
    errorBody: 'json' | 'text' | 'none';
    /** Honour the `X-Beia-Mock-Scenario` header. */
    scenarioHeader: boolean;
  };
  journal: {
    /** The request journal keeps the newest this many entries. */
    maxEntries: number;
    /** ...and at most this many bytes of them (as JSON); the oldest go first. */
    maxBytes: number;
  };
  admin: {
    /**
     * Host names (as in the `Host` header, without the port) that may use the admin API without a
     * token, besides loopback (`localhost`, `127.0.0.0/8`, `[::1]`). Anything else is a 403, so a
     * web page cannot reach the admin API by DNS rebinding.
     */
    allowedHosts: string[];
    /** The largest admin request body; a larger one is a 413, refused while it is read. */
    maxBodyBytes: number;
    /** The most licenses the store may hold; `POST` or `PUT /__admin/licenses` past it is a 429. */
    maxLicenses: number;
  };
  faults: {
    /** A `hang` fault closes the connection after this long if the client has not. */
    maxHangMs: number;
  };
  store: {
    /** Every Redis key starts with it, so several mocks can share one Redis (`--store redis://...`). */
    prefix: string;
    /** A processing slot in Redis is a lease this long, renewed while the image is processed; a replica killed mid-request frees its slots when it ends. */
    slotLeaseMs: number;
    /**
     * When Redis is found to have lost the state under a running mock (restarted without
     * persistence, a `FLUSHALL`): `reseed` it from the config's licenses (one replica does), or
     * stay `degraded` (health says why) until `POST /__admin/reset` or a restart with `--reset-store`.
     */
    onStateLost: 'reseed' | 'degraded';
  };
}

/** The input formats sharp can read that the mock may accept (`images.formats`). */
export const IMAGE_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif', 'heif', 'svg', 'jp2', 'jxl'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

/** Who may call a license that names no `allowedIps`, when the mock listens on loopback. */
export const LOOPBACK_IPS: readonly string[] = ['127.0.0.1', '::1'];

/**
 * Who may call a license that names no `allowedIps`, when the mock listens beyond loopback
 * (`--host 0.0.0.0`, the Docker image): loopback and the private ranges (RFC 1918, RFC 4193),
 * which is where a container's mapped port, a compose neighbour or a colleague's machine comes
 * from. A public address still gets the 403 (D8).
 */
export const LOCAL_NETWORK_IPS: readonly string[] = [...LOOPBACK_IPS, '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'];

/** The vendor page's own example credentials, so its curl line works with only the URL changed. */
export const DEFAULT_LICENSE: LicenseConfig = {
  licenseId: '1234',
  apiKey: '5678',
  credits: 100,
  allowedIps: [...LOOPBACK_IPS],
  maxConcurrent: 2,
};

/** Every default, in one place; docs/configuration.md's table mirrors it. */
export const DEFAULT_CONFIG: MockConfig = {
  licenses: [DEFAULT_LICENSE],
  processing: { delayMs: 0, msPerMegapixel: 0, jitterMs: 0, maxConcurrent: 64, retryAfterSeconds: 1 },
  limits: {
    maxUploadBytes: 20 * 1024 * 1024,
    maxFieldBytes: 1024,
    maxParts: 8,
    maxInputPixels: 50_000_000,
    requestTimeoutMs: 60_000,
    minBytesPerSecond: 1024,
    minRateWindowMs: 10_000,
    maxBufferedBytes: 256 * 1024 * 1024,
    maxConcurrentUploads: 256,
    maxClientShare: 0.5,
  },
  images: { maxSide: 2048, cacheBytes: 64 * 1024 * 1024, formats: ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif'], renderTimeoutSeconds: 10 },
  dashboard: { keepImages: 50, imageBytes: 64 * 1024 * 1024, keepImagesFrom: 'start' },
  network: { trustedProxies: [] },
  rules: {
    checkOrder: [...CHECK_NAMES],
    requireLicenseHeader: true,
    creditsRemainingOnErrors: true,
    strictBooleans: true,
    lenientBooleans: false,
    unknownLicenseStatus: 401,
    partLabels: 'content-disposition',
    creditsPartFormat: 'text',
    errorBody: 'json',
    scenarioHeader: true,
  },
  journal: { maxEntries: 1000, maxBytes: 8 * 1024 * 1024 },
  admin: { allowedHosts: [], maxBodyBytes: 1024 * 1024, maxLicenses: 1000 },
  faults: { maxHangMs: 120_000 },
  store: { prefix: 'beia:', slotLeaseMs: 15_000, onStateLost: 'reseed' },
};
