import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { IMAGE_PATH } from '../contract/index.js';
import type { UploadBudget } from './form/upload-budget.js';
import type { ImageRenderer } from './images/renderer.js';
import type { RequestLogLine } from './logger.js';
import type { MockStore, StoreCounters } from './store/index.js';

/** What the metrics read when they are scraped. */
export interface MetricSources {
  store: MockStore;
  renderer: ImageRenderer;
  uploads: UploadBudget;
}

const PREFIX = 'beia_mock_';

/**
 * The mock's metrics in the Prometheus text format (`GET /__admin/metrics`), one registry per
 * mock so that several in one process do not mix. Requests are counted from the same record as
 * the log line; the gauges read the store, the upload budget and the result cache when scraped.
 *
 * @example
 * ```ts
 * const metrics = new MockMetrics({ store, renderer, uploads });
 * metrics.observe(logLine);
 * const text = await metrics.text();
 * ```
 */
export class MockMetrics {
  readonly registry = new Registry();
  readonly #requests: Counter<'route' | 'status' | 'license'>;
  readonly #creditsSpent: Counter<'license'>;
  readonly #duration: Histogram<'route' | 'status_class'>;
  readonly #storeErrors: Counter;

  readonly #sources: MetricSources;

  /** `processMetrics` adds Node's own (CPU, memory, event loop lag, GC): for a process that is a mock. */
  constructor(sources: MetricSources, options: { processMetrics?: boolean } = {}) {
    this.#sources = sources;
    const registers = [this.registry];
    this.#requests = new Counter({
      name: `${PREFIX}requests_total`,
      help: 'Requests answered, by route (image, admin, other), status and license (image route only).',
      labelNames: ['route', 'status', 'license'],
      registers,
    });
    this.#creditsSpent = new Counter({
      name: `${PREFIX}credits_spent_total`,
      help: 'Credits spent: one per 200 of the image route, and one per answer a phase "after" fault lost.',
      labelNames: ['license'],
      registers,
    });
    this.#duration = new Histogram({
      name: `${PREFIX}request_duration_seconds`,
      help: 'Time from the request to the answer, body included, by route and status class (2xx, 4xx, 5xx).',
      labelNames: ['route', 'status_class'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.#storeErrors = new Counter({
      name: `${PREFIX}store_errors_total`,
      help: 'Requests answered 500 because the store could not read or record state (a file it cannot write).',
      registers,
    });
    // Gauges read their source when scraped.
    const gauge = (name: string, help: string, read: () => number | Promise<number>) =>
      new Gauge({
        name: `${PREFIX}${name}`,
        help,
        registers,
        async collect() {
          this.set(await read());
        },
      });
    gauge('images_in_processing', 'Images holding a processing slot now, all licenses together.', () => sources.store.inFlight());
    gauge('uploads_receiving', 'Uploads being received now.', () => sources.uploads.held.uploads);
    gauge('upload_buffered_bytes', 'Bytes of uploads held in memory now (limits.maxBufferedBytes bounds them).', () => sources.uploads.held.bytes);
    gauge('result_cache_bytes', 'Bytes of finished answers in the result cache (images.cacheBytes bounds them).', () => sources.renderer.cacheStats().bytes);
    // The cache counts for itself; these counters follow it when scraped.
    let seen = { hits: 0, misses: 0 };
    const follow = (key: 'hits' | 'misses') =>
      function (this: Counter) {
        const now = sources.renderer.cacheStats()[key];
        if (now > seen[key]) this.inc(now - seen[key]);
        seen = { ...seen, [key]: now };
      };
    new Counter({ name: `${PREFIX}result_cache_hits_total`, help: 'Images answered from the result cache.', registers, collect: follow('hits') });
    new Counter({ name: `${PREFIX}result_cache_misses_total`, help: 'Images rendered by sharp (not in the cache).', registers, collect: follow('misses') });
    // What the store could not keep or write yet (the file and Redis stores count it).
    const storeCounters = (): StoreCounters => sources.store.counters?.() ?? { journalPending: 0, journalDropped: 0, stateLost: 0 };
    gauge('journal_pending', 'Journal entries waiting in memory for the store: it is away, or its writes fail.', () => storeCounters().journalPending);
    const followStore = (key: 'journalDropped' | 'stateLost') => {
      let counted = 0;
      return function (this: Counter) {
        const now = storeCounters()[key];
        if (now > counted) this.inc(now - counted);
        counted = now;
      };
    };
    new Counter({
      name: `${PREFIX}journal_dropped_total`,
      help: 'Journal entries given up: more were waiting for the store (away, or its writes failing) than it keeps.',
      registers,
      collect: followStore('journalDropped'),
    });
    new Counter({
      name: `${PREFIX}store_state_lost_total`,
      help: 'Times the store found its state gone under the running mock (a Redis restarted without persistence, a FLUSHALL).',
      registers,
      collect: followStore('stateLost'),
    });
    // Node's own last: a page opened in a browser starts with the mock's.
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
  }

  /**
   * Counts one answered request, from its log line. `license` is the license the request proved
   * with its key: only those label a series, so made-up ids cannot grow the metrics.
   */
  observe(line: RequestLogLine, facts: { storeError?: boolean; license?: string | undefined; charged?: boolean } = {}): void {
    if (facts.storeError) this.#storeErrors.inc();
    const route = line.path.startsWith('/__admin') ? 'admin' : line.path === IMAGE_PATH ? 'image' : 'other';
    const license = route === 'image' ? (facts.license ?? '') : '';
    this.#requests.inc({ route, status: String(line.status), license });
    this.#duration.observe({ route, status_class: `${Math.floor(line.status / 100)}xx` }, line.durationMs / 1000);
    if (route === 'image' && (line.status === 200 || facts.charged)) this.#creditsSpent.inc({ license });
  }

  contentType(): string {
    return this.registry.contentType;
  }

  /**
   * The metrics as text. Series of licenses the store no longer has (deleted, expired, reset
   * away) are dropped first, so that licenses made per test do not pile up.
   */
  async text(): Promise<string> {
    const known = new Set((await this.#sources.store.listLicenses()).map((license) => license.licenseId));
    for (const metric of [this.#requests, this.#creditsSpent] as Counter<string>[]) {
      for (const { labels } of (await metric.get()).values) {
        const license = String(labels.license ?? '');
        if (license !== '' && !known.has(license)) metric.remove(labels);
      }
    }
    return this.registry.metrics();
  }
}
