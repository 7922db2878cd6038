import { Hono } from 'hono';
import { HEADER, IMAGE_PATH } from '../contract/index.js';
import { adminRoutes } from './admin/admin-routes.js';
import { DEFAULT_CONFIG, LOOPBACK_IPS, type MockConfig } from './config/index.js';
import { UploadBudget } from './form/upload-budget.js';
import { ApiError, storeFailure } from './http/api-error.js';
import { ImageRenderer, type ReplayOptions } from './images/renderer.js';
import { ImageGallery } from './images/gallery.js';
import { MockMetrics } from './metrics.js';
import type { TransportError } from './http/client-error.js';
import { errorResponse } from './http/respond.js';
import { imageRoute, type MockEnv, type RequestRecord } from './image-route.js';
import { recordRoute, type RecordOptions } from './record-route.js';
import { silentLogger, type RequestLogger, type RequestLogLine } from './logger.js';
import { normaliseIp } from './net/ip.js';
import { boundEntry, MemoryStore, StoreError, type MockStore } from './store/index.js';
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
}

/**
 * Builds the mock as a Hono app, without listening: test it in-process with `app.request()`,
 * or serve it with `startMockServer`. The image route's pipeline is in `image-route.ts`, its
 * checks in `pipeline/checks.ts`, in the order of `config.rules.checkOrder`.
 *
 * @example
 * ```ts
 * const { app } = createMockApp();
 * const res = await app.request('/__admin/health');
 * ```
 */
export function createMockApp(options: MockAppOptions = {}): MockApp {
  const config = options.config ?? DEFAULT_CONFIG;
  const store = options.store ?? new MemoryStore(config.licenses, { maxJournalEntries: config.journal.maxEntries, maxJournalBytes: config.journal.maxBytes });
  const logger = options.logger ?? silentLogger;
  const uploads = new UploadBudget({ ...config.limits, retryAfterSeconds: config.processing.retryAfterSeconds });
  if (options.replay && options.record) throw new TypeError('createMockApp: record and replay are two modes; give one of them.');
  const renderer = new ImageRenderer({ maxInputPixels: config.limits.maxInputPixels, ...config.images, ...(options.replay ? { replay: options.replay } : {}) });
  const gallery = new ImageGallery({
    entries: config.dashboard.keepImages,
    maxBytes: config.dashboard.imageBytes,
    maxInputPixels: config.limits.maxInputPixels,
    formats: config.images.formats,
    renderTimeoutSeconds: config.images.renderTimeoutSeconds,
  });
  const startedAt = Date.now();
  const metrics = new MockMetrics({ store, renderer, uploads }, { processMetrics: options.processMetrics ?? false });
  const app = new Hono<MockEnv>();

  app.use('*', async function identifyMock(c, next) {
    await next();
    c.res.headers.set(HEADER.mockVersion, MOCK_VERSION);
    // Shutting down: ask keep-alive clients to go, so the server can close once they have.
    if (options.shutdown?.aborted) c.res.headers.set('Connection', 'close');
  });

  app.use('*', async function logAndJournal(c, next) {
    const started = performance.now();
    await next();
    const record = c.get('record') ?? {};
    const status = record.status ?? c.res.status;
    // The dashboard polls every second while it is open: its reads would drown the log. A
    // browser's own favicon request is not traffic of the API either.
    if (status < 400 && c.req.method === 'GET' && (c.req.path.startsWith('/__admin/ui') || c.req.path === '/favicon.ico' || c.req.path === '/')) return;
    const line: RequestLogLine = {
      time: new Date().toISOString(),
      level: levelOf(status),
      msg: 'request',
      method: c.req.method,
      path: c.req.path,
      status,
      durationMs: Math.round(performance.now() - started),
    };
    // Only the facts known: a plain loop, as this runs on every request.
    for (const key of RECORD_KEYS) {
      const value = record[key];
      if (value !== undefined) (line as unknown as Record<string, unknown>)[key] = value;
    }
    // An answer that did not go out through Hono (record.status) had the headers the route names, or none.
    const responseHeaders = record.responseHeaders ?? (record.status === undefined ? headersOf(c.res.headers) : undefined);
    const retryAfter = status === 429 ? Number(c.res.headers.get('retry-after')) : NaN;
    await logAndJournalLine(line, record, responseHeaders, retryAfter);
  });

  /**
   * The log line, the journal entry (not for the admin API) and the metrics of one answer: of a
   * request through the app, or of one Node's HTTP parser refused before it reached the app.
   */
  async function logAndJournalLine(facts: RequestLogLine, record: RequestRecord, headers: Record<string, string> | undefined, retryAfter = NaN) {
    // A client's text (path, license id, part names...) is cut once, here, for both the log line and the journal.
    const line = boundEntry(facts);
    if (!line.path.startsWith('/__admin')) {
      const { level: _level, msg: _msg, fault: _fault, error: _error, ...entry } = line;
      // Retry discipline: a client (license and address) that comes back before the Retry-After
      // of its last 429 is flagged in the journal and warned about in the log.
      const retry =
        line.licenseId === undefined
          ? undefined
          : { client: `${line.licenseId}|${line.remoteAddress ?? ''}`, ...(Number.isFinite(retryAfter) ? { retryAfterMs: retryAfter * 1000 } : {}) };
      // The answer is out already: a journal the store cannot take is logged, not turned into an error.
      const { parts, responseHeaders } = boundEntry({ parts: record.parts ?? [], ...(headers ? { responseHeaders: headers } : {}) });
      const journaled = await store
        .appendJournal({ ...entry, ...(record.fault ? { fault: record.fault } : {}), parts, ...(responseHeaders ? { responseHeaders } : {}) }, retry)
        .catch((error: unknown): { earlyByMs?: number } => {
          console.error(`beia mock: the journal entry of this request is lost: ${(error as Error).message}`);
          return {};
        });
      if (journaled.earlyByMs !== undefined) {
        Object.assign(line, { level: 'warn', retryTooEarly: true, earlyByMs: journaled.earlyByMs });
      }
    }
    logger(line);
    metrics.observe(line, { storeError: record.storeError === true, license: record.authenticated, charged: record.charged === true });
  }

  /** What `startMockServer` calls for an answer to an error of Node's HTTP parser that no request of the app saw. */
  function recordTransportError(error: TransportError): void {
    const remoteAddress = error.remoteAddress === undefined ? undefined : normaliseIp(error.remoteAddress);
    const line: RequestLogLine = {
      time: new Date().toISOString(),
      level: levelOf(error.status),
      msg: 'request',
      method: error.method ?? '-',
      path: error.path ?? '-',
      status: error.status,
      durationMs: Math.round(error.durationMs),
      ...(remoteAddress === undefined ? {} : { remoteAddress }),
      code: error.code,
      error: error.error,
    };
    void logAndJournalLine(line, remoteAddress === undefined ? {} : { remoteAddress }, error.headers);
  }

  app.route(
    '/__admin',
    adminRoutes({
      config,
      store,
      version: MOCK_VERSION,
      uploads,
      renderer,
      metrics,
      gallery,
      startedAt,
      ...(options.record ? { recordings: { mode: 'record' } as const } : {}),
      ...(options.replay ? { recordings: { mode: 'replay', strict: options.replay.strict === true } as const } : {}),
      defaultAllowedIps: options.defaultAllowedIps ?? LOOPBACK_IPS,
      ...(options.adminToken ? { adminToken: options.adminToken } : {}),
    }),
  );

  app.post(
    IMAGE_PATH,
    options.record
      ? recordRoute({ config, record: options.record })
      : imageRoute({
          config,
          store,
          random: options.random ?? Math.random,
          shutdown: options.shutdown ?? new AbortController().signal,
          version: MOCK_VERSION,
          uploads,
          renderer,
          gallery,
        }),
  );
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
    console.error(`beia mock: unexpected error on ${c.req.method} ${c.req.path}:`, error);
    return errorResponse(
      new ApiError('internal_error', 'The mock failed unexpectedly; this is a bug in beia-kit, please report it with the log line above.'),
      config.rules.errorBody,
    );
  });

  return { app, store, config, metrics, recordTransportError };
}

function levelOf(status: number): RequestLogLine['level'] {
  return status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
}

/** A Headers as a plain object, with the mock's version header the outer middleware adds after the journal. */
function headersOf(headers: Headers): Record<string, string> {
  const plain: Record<string, string> = {};
  headers.forEach((value, name) => (plain[name] = value));
  plain[HEADER.mockVersion.toLowerCase()] ??= MOCK_VERSION;
  return plain;
}

/** What the image route learnt that goes into the log line and the journal, in this order. */
const RECORD_KEYS = [
  'remoteAddress',
  'licenseId',
  'code',
  'error',
  'scenario',
  'fault',
  'creditsRemaining',
  'charged',
  'answerLost',
  'cacheHit',
  'replayed',
  'recorded',
] as const satisfies readonly (keyof RequestRecord & keyof RequestLogLine)[];
