import type * as Prom from 'prom-client';
import type { Counter, Registry } from 'prom-client';
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
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** What prom-client's registry answers with (`Registry.PROMETHEUS_CONTENT_TYPE`), known before it is loaded. */
const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type Labels = Record<string, string>;

/** A count per series: the labels, in the order the series were first counted. */
class Counts {
  readonly series = new Map<string, { labels: Labels; value: number }>();

  inc(key: string, labels: () => Labels): void {
    const found = this.series.get(key);
    if (found) found.value += 1;
    else this.series.set(key, { labels: labels(), value: 1 });
  }
}

/** One series of the duration histogram: counts per bucket (not cumulative), sum and count, as prom-client keeps them. */
interface DurationSeries {
  labels: { route: string; status_class: string };
  buckets: number[];
  sum: number;
  count: number;
}

/** The prom-client registry and its metrics, made at the first scrape. */
interface Exported {
  registry: Registry;
  requests: Counter<string>;
  creditsSpent: Counter<string>;
  storeErrors: Counter;
}

/**
 * The mock's metrics in the Prometheus text format (`GET /__admin/metrics`), one registry per
 * mock so that several in one process do not mix. Requests are counted from the same record as
 * the log line, with plain numbers: prom-client is loaded, and its registry made, only when the
 * metrics are first scraped, so a mock that nobody scrapes never loads it. The gauges read the
 * store, the upload budget and the result cache when scraped. Node's process metrics
 * (`processMetrics`) start with that first scrape too: the CPU and memory series read the
 * process's totals, the garbage collector's and the event loop's count from then on.
 *
 * @example
 * ```ts
 * const metrics = new MockMetrics({ store, renderer, uploads });
 * metrics.observe(logLine);
 * const text = await metrics.text();
 * ```
 */
export class MockMetrics {
  readonly #requests = new Counts();
  readonly #creditsSpent = new Counts();
  readonly #duration = new Map<string, DurationSeries>();
  #storeErrors = 0;

  readonly #sources: MetricSources;
  readonly #processMetrics: boolean;
  #exported: Promise<Exported> | undefined;

  /** `processMetrics` adds Node's own (CPU, memory, event loop lag, GC): for a process that is a mock. */
  constructor(sources: MetricSources, options: { processMetrics?: boolean } = {}) {
    this.#sources = sources;
    this.#processMetrics = options.processMetrics ?? false;
  }

  /**
   * Counts one answered request, from its log line. `license` is the license the request proved
   * with its key: only those label a series, so made-up ids cannot grow the metrics.
   */
  observe(line: RequestLogLine, facts: { storeError?: boolean; license?: string | undefined; charged?: boolean } = {}): void {
    if (facts.storeError) this.#storeErrors += 1;
    const route = line.path.startsWith('/__admin') ? 'admin' : line.path === IMAGE_PATH ? 'image' : 'other';
    const license = route === 'image' ? (facts.license ?? '') : '';
    const status = String(line.status);
    this.#requests.inc(`${route} ${status} ${license}`, () => ({ route, status, license }));
    const statusClass = `${Math.floor(line.status / 100)}xx`;
    const key = `${route} ${statusClass}`;
    let series = this.#duration.get(key);
    if (!series) {
      series = { labels: { route, status_class: statusClass }, buckets: DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.#duration.set(key, series);
    }
    // As prom-client's Histogram.observe: the first bucket whose bound holds the value, the sum in order.
    const seconds = line.durationMs / 1000;
    const bucket = DURATION_BUCKETS.findIndex((bound) => seconds <= bound);
    if (bucket >= 0) series.buckets[bucket]! += 1;
    series.sum += seconds;
    series.count += 1;
    if (route === 'image' && (line.status === 200 || facts.charged)) this.#creditsSpent.inc(license, () => ({ license }));
  }

  contentType(): string {
    return CONTENT_TYPE;
  }

  /**
   * The metrics as text. Series of licenses the store no longer has (deleted, expired, reset
   * away) are dropped first, so that licenses made per test do not pile up.
   */
  async text(): Promise<string> {
    const known = new Set((await this.#sources.store.listLicenses()).map((license) => license.licenseId));
    for (const counts of [this.#requests, this.#creditsSpent]) {
      for (const [key, { labels }] of counts.series) {
        const license = labels.license ?? '';
        if (license !== '' && !known.has(license)) counts.series.delete(key);
      }
    }
    const exported = await (this.#exported ??= this.#export());
    // The counters carry the plain counts as they are now.
    const copy = (metric: Counter<string>, counts: Counts) => {
      metric.reset();
      for (const { labels, value } of counts.series.values()) metric.inc(labels, value);
    };
    copy(exported.requests, this.#requests);
    copy(exported.creditsSpent, this.#creditsSpent);
    exported.storeErrors.reset();
    if (this.#storeErrors > 0) exported.storeErrors.inc(this.#storeErrors);
    return exported.registry.metrics();
  }

  /** Loads prom-client and makes the registry: the same metrics, names, help and order as ever. */
  async #export(): Promise<Exported> {
    const prom = await import('prom-client');
    const registry = new prom.Registry();
    const registers = [registry];
    const requests = new prom.Counter({
      name: `${PREFIX}requests_total`,
      help: 'Requests answered, by route (image, admin, other), status and license (image route only).',
      labelNames: ['route', 'status', 'license'],
      registers,
    });
    const creditsSpent = new prom.Counter({
      name: `${PREFIX}credits_spent_total`,
      help: 'Credits spent: one per 200 of the image route, and one per answer a phase "after" fault lost.',
      labelNames: ['license'],
      registers,
    });
    registerDurations(registry, this.#duration);
    const storeErrors = new prom.Counter({
      name: `${PREFIX}store_errors_total`,
      help: 'Requests answered 500 because the store could not read or record state (a file it cannot write).',
      registers,
    });
    registerSourceMetrics(prom, registry, this.#sources);
    // Node's own last: a page opened in a browser starts with the mock's.
    if (this.#processMetrics) prom.collectDefaultMetrics({ register: registry, prefix: PREFIX });
    return { registry, requests, creditsSpent, storeErrors };
  }
}

/** The duration histogram, counted by the mock with plain numbers, formatted by the registry as it would its own Histogram. */
function registerDurations(registry: Registry, durations: Map<string, DurationSeries>): void {
  const durationName = `${PREFIX}request_duration_seconds`;
  const durationHelp = 'Time from the request to the answer, body included, by route and status class (2xx, 4xx, 5xx).';
  const exportDurations = () => ({
    name: durationName,
    help: durationHelp,
    type: 'histogram',
    aggregator: 'sum',
    values: [...durations.values()].flatMap((series) => {
      let cumulative = 0;
      return [
        ...DURATION_BUCKETS.map((bound, i) => {
          cumulative += series.buckets[i]!;
          return { labels: { le: bound }, sharedLabels: series.labels, value: cumulative, metricName: `${durationName}_bucket` };
        }),
        { labels: { le: '+Inf' }, sharedLabels: series.labels, value: series.count, metricName: `${durationName}_bucket` },
        { labels: {}, sharedLabels: series.labels, value: series.sum, metricName: `${durationName}_sum` },
        { labels: {}, sharedLabels: series.labels, value: series.count, metricName: `${durationName}_count` },
      ];
    }),
  });
  registry.registerMetric({
    name: durationName,
    help: durationHelp,
    type: 'histogram',
    getForPromString: () => Promise.resolve(exportDurations()),
    get: () =>
      Promise.resolve({
        ...exportDurations(),
        values: exportDurations().values.map(({ labels, sharedLabels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } })),
      }),
  } as unknown as Parameters<Registry['registerMetric']>[0]);
}

/** The metrics read from their sources when scraped: the store, the upload budget, the result cache. */
function registerSourceMetrics(prom: typeof Prom, registry: Registry, sources: MetricSources): void {
  const registers = [registry];
  // Gauges read their source when scraped.
  const gauge = (name: string, help: string, read: () => number | Promise<number>) =>
    new prom.Gauge({
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
  new prom.Counter({ name: `${PREFIX}result_cache_hits_total`, help: 'Images answered from the result cache.', registers, collect: follow('hits') });
  new prom.Counter({ name: `${PREFIX}result_cache_misses_total`, help: 'Images rendered by sharp (not in the cache).', registers, collect: follow('misses') });
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
  new prom.Counter({
    name: `${PREFIX}journal_dropped_total`,
    help: 'Journal entries given up: more were waiting for the store (away, or its writes failing) than it keeps.',
    registers,
    collect: followStore('journalDropped'),
  });
  new prom.Counter({
    name: `${PREFIX}store_state_lost_total`,
    help: 'Times the store found its state gone under the running mock (a Redis restarted without persistence, a FLUSHALL).',
    registers,
    collect: followStore('stateLost'),
  });
}
