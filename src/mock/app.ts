import type { IncomingMessage, ServerResponse } from 'node:http';
import { Hono, type MiddlewareHandler } from 'hono';
import { HEADER, IMAGE_PATH } from '../contract/index.js';
import { adminRoutes, type AdminDeps } from './admin/admin-routes.js';
import { DEFAULT_CONFIG, LOOPBACK_IPS, type MockConfig } from './config/index.js';
import { UploadBudget } from './form/upload-budget.js';
import { ApiError, storeFailure, unexpectedFailure } from './http/api-error.js';
import { ImageRenderer, type ReplayOptions } from './images/renderer.js';
import { ImageGallery } from './images/gallery.js';
import { MockMetrics } from './metrics.js';
import type { TransportError } from './http/client-error.js';
import { errorResponse } from './http/respond.js';
import { honoImageRoute, nodeImageHandler, type ImageEdgeDeps, type MockEnv } from './image-route.js';
import { ImagePipeline } from './pipeline/image-pipeline.js';
import { recordRoute, type RecordOptions } from './record-route.js';
import { finishRecord, recordKeeper } from './record/keep-record.js';
import { beginRecord, type RecordExtras } from './record/request-record.js';
import { silentLogger, type RequestLogger } from './logger.js';
import { normaliseIp } from './net/ip.js';
import { MemoryStore, StoreError, type MockStore } from './store/index.js';
import { indexPage } from './index-page.js';
import { MOCK_VERSION } from './version.js';

export interface MockAppOptions {
  /** A validated config (see `validateConfig`); the embedded default when absent. */
  config?: MockConfig;
  /** The state; a fresh {@link MemoryStore} of the config's licenses when absent. */
  store?: MockStore;
  /** One call per request; silent when absent. */
  logger?: RequestLogger;
  /** Token required by the admin API; open when absent. */
  adminToken?: string;
  /** The allowlist of a license the admin API adds without one; loopback when absent. */
  defaultAllowedIps?: readonly string[];
  /** Source of randomness for the processing time's jitter (faults draw from seeds of their own). */
  random?: () => number;
  /** Aborted at shutdown, so hanging faults end at once. */
  shutdown?: AbortSignal;
  /** Node's process metrics (CPU, memory, event loop, GC) in `/__admin/metrics` too: for a process that is a mock, as `beia mock` is. */
  processMetrics?: boolean;
  /**
   * Replay recordings of the live API (`beia mock --recordings DIR`): an upload recorded gets its
   * recorded images; everything else (checks, credits, faults, journal) stays the mock's.
   */
  replay?: ReplayOptions;
  /**
   * Record instead of answering (`beia mock --record-from URL --recordings DIR`): the image route
   * forwards to the live API and keeps its 200s. Not with `replay`.
   */
  record?: RecordOptions;
}

export interface MockApp {
  app: Hono<MockEnv>;
  store: MockStore;
  config: MockConfig;
  /** What `GET /__admin/metrics` serves. */
  metrics: MockMetrics;
  /**
   * Logs and journals the mock's answer to an error of Node's HTTP parser that came before any
   * request reached the app (a malformed request line, headers too large or too slow): the
   * server's `clientError` handler (`http/client-error.ts`) calls it.
   */
  recordTransportError: (error: TransportError) => void;
  /**
   * The image route on Node's own request and response, for `startMockServer` to call without
   * Hono (the hot route); absent when the mock records. Every other route goes through `app`.
   */
  imageHandler?: (req: IncomingMessage, res: ServerResponse) => void;
}

/**
 * Builds the mock as a Hono app, without listening: test it in-process with `app.request()`,
 * or serve it with `startMockServer`. The image route's pipeline is in `pipeline/image-pipeline.ts`, its
 * checks in `pipeline/checks.ts`, in the order of `config.rules.checkOrder`.
 *
 * @example
 * ```ts
 * const { app } = createMockApp();
 * const res = await app.request('/__admin/health');
 * ```
 */
export function createMockApp(options: MockAppOptions = {}): MockApp {
  if (options.replay && options.record) throw new TypeError('createMockApp: record and replay are two modes; give one of them.');
  const parts = mockParts(options);
  const { config, store, metrics } = parts;
  const keep = recordKeeper({ store, logger: options.logger ?? silentLogger, metrics });
  const shutdown = options.shutdown ?? new AbortController().signal;
  const app = new Hono<MockEnv>();
  app.use('*', identifyMock(shutdown));
  app.use('*', recordRequest(keep));
  app.route('/__admin', adminRoutes(adminDeps(parts, options)));

  const image: ImageEdgeDeps | undefined = options.record
    ? undefined
    : {
        pipeline: new ImagePipeline({ ...parts, random: options.random ?? Math.random, version: MOCK_VERSION, shutdown }),
        config,
        version: MOCK_VERSION,
        shutdown,
        keep,
      };
  app.post(IMAGE_PATH, image ? honoImageRoute(image) : recordRoute({ config, record: options.record! }));
  otherRoutes(app, config);
  return {
    app,
    store,
    config,
    metrics,
    recordTransportError: transportErrorRecorder(keep),
    ...(image ? { imageHandler: nodeImageHandler(image) } : {}),
  };
}

/** What the routes share: the config, the state, and the per-process bounds, cache, gallery and metrics. */
interface MockParts {
  config: MockConfig;
  store: MockStore;
  uploads: UploadBudget;
  renderer: ImageRenderer;
  gallery: ImageGallery;
  metrics: MockMetrics;
  startedAt: number;
}

function mockParts(options: MockAppOptions): MockParts {
  const config = options.config ?? DEFAULT_CONFIG;
  const store = options.store ?? new MemoryStore(config.licenses, { maxJournalEntries: config.journal.maxEntries, maxJournalBytes: config.journal.maxBytes });
  const uploads = new UploadBudget({ ...config.limits, retryAfterSeconds: config.processing.retryAfterSeconds });
  const renderer = new ImageRenderer({ maxInputPixels: config.limits.maxInputPixels, ...config.images, ...(options.replay ? { replay: options.replay } : {}) });
  const gallery = new ImageGallery({
    entries: config.dashboard.keepImages,
    maxBytes: config.dashboard.imageBytes,
    maxInputPixels: config.limits.maxInputPixels,
    formats: config.images.formats,
    renderTimeoutSeconds: config.images.renderTimeoutSeconds,
    keepFrom: config.dashboard.keepImagesFrom,
  });
  const metrics = new MockMetrics({ store, renderer, uploads }, { processMetrics: options.processMetrics ?? false });
  return { config, store, uploads, renderer, gallery, metrics, startedAt: Date.now() };
}

function adminDeps(parts: MockParts, options: MockAppOptions): AdminDeps {
  return {
    config: parts.config,
    store: parts.store,
    version: MOCK_VERSION,
    uploads: parts.uploads,
    renderer: parts.renderer,
    metrics: parts.metrics,
    gallery: parts.gallery,
    startedAt: parts.startedAt,
    ...(options.record ? { recordings: { mode: 'record' } as const } : {}),
    ...(options.replay ? { recordings: { mode: 'replay', strict: options.replay.strict === true } as const } : {}),
    defaultAllowedIps: options.defaultAllowedIps ?? LOOPBACK_IPS,
    ...(options.adminToken ? { adminToken: options.adminToken } : {}),
  };
}

/** `X-Beia-Mock-Version` on every answer; while shutting down, keep-alive clients are asked to go, so the server can close once they have. */
function identifyMock(shutdown: AbortSignal): MiddlewareHandler<MockEnv> {
  return async function identifyMock(c, next) {
    await next();
    c.res.headers.set(HEADER.mockVersion, MOCK_VERSION);
    if (shutdown.aborted) c.res.headers.set('Connection', 'close');
  };
}

/** One record per request, finished after the answer and kept (journal, log, metrics) by `keep`. */
function recordRequest(keep: ReturnType<typeof recordKeeper>): MiddlewareHandler<MockEnv> {
  return async function recordRequest(c, next) {
    const startedAt = performance.now();
    const record = beginRecord(c.req.method, c.req.path);
    const extras: RecordExtras = {};
    c.set('record', record);
    c.set('extras', extras);
    await next();
    // An answer that did not go out through Hono set its status (and the headers it sent, or none).
    const throughHono = record.status === 0;
    const status = throughHono ? c.res.status : record.status;
    // The dashboard polls every second while it is open: its reads would drown the log. A
    // browser's own favicon request is not traffic of the API either.
    if (status < 400 && c.req.method === 'GET' && (c.req.path.startsWith('/__admin/ui') || c.req.path === '/favicon.ico' || c.req.path === '/')) return;
    finishRecord(record, status, startedAt, throughHono ? headersOf(c.res.headers) : undefined);
    await keep(record, extras, status === 429 ? Number(c.res.headers.get('retry-after')) : NaN);
    extras.breakConnection?.();
  };
}

/** What `startMockServer` calls for an answer to an error of Node's HTTP parser that no request of the app saw. */
function transportErrorRecorder(keep: ReturnType<typeof recordKeeper>): (error: TransportError) => void {
  return (error) => {
    const record = beginRecord(error.method ?? '-', error.path ?? '-', error.remoteAddress === undefined ? undefined : normaliseIp(error.remoteAddress));
    finishRecord(record, error.status, performance.now() - error.durationMs, error.headers);
    Object.assign(record, { code: error.code, error: error.error });
    void keep(record, {});
  };
}

/** The image path's other methods, the favicon, the index page, and the answers for no route and for a bug. */
function otherRoutes(app: Hono<MockEnv>, config: MockConfig): void {
  app.all(IMAGE_PATH, (c) => {
    const response = errorResponse(
      new ApiError('method_not_allowed', `${c.req.method} is not allowed on ${IMAGE_PATH}. Send POST with a multipart/form-data body.`),
      config.rules.errorBody,
    );
    response.headers.set('Allow', 'POST');
    return response;
  });
  // Browsers ask for it on any page of the mock (the dashboard, the metrics): nothing, and no journal entry.
  app.get('/favicon.ico', (c) => c.body(null, 204));
  // The mock's address opened in a browser, or asked by a script: where to go from here.
  app.get('/', (c) => indexPage(c, { version: MOCK_VERSION }));
  app.notFound((c) =>
    errorResponse(
      new ApiError(
        'not_found',
        `No route ${c.req.method} ${c.req.path}. The BEIA API has one route: POST ${IMAGE_PATH}; the mock's controls are under /__admin.`,
      ),
      config.rules.errorBody,
    ),
  );
  app.onError((error, c) => {
    if (error instanceof StoreError) return errorResponse(storeFailure(error), config.rules.errorBody);
    return errorResponse(unexpectedFailure(error, c.req.method, c.req.path), config.rules.errorBody);
  });
}

/** A Headers as a plain object, with the mock's version header the outer middleware adds after the journal. */
function headersOf(headers: Headers): Record<string, string> {
  const plain: Record<string, string> = {};
  headers.forEach((value, name) => (plain[name] = value));
  plain[HEADER.mockVersion.toLowerCase()] ??= MOCK_VERSION;
  return plain;
}
