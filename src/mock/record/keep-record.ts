import type { RequestLogger } from '../logger.js';
import type { MockMetrics } from '../metrics.js';
import { clientAddress, type IpMatcher } from '../net/ip.js';
import { boundEntry, type MockStore } from '../store/index.js';
import type { RetryWatch } from '../store/types.js';
import { journalEntryOf, logLineOf, type RecordExtras, type RequestRecord } from './request-record.js';

/** Where a finished record goes: the journal (in the store), the log, the metrics. */
export interface RecordSinks {
  store: MockStore;
  logger: RequestLogger;
  metrics: MockMetrics;
}

/**
 * The first facts of a record, the same for every route that takes an upload: the client's
 * address (after trusted proxies) and the license the `License-Id` header claims. Returns both.
 */
export function identifyClient(
  record: RequestRecord,
  peerAddress: string,
  header: (name: 'x-forwarded-for' | 'license-id') => string | undefined,
  trustedProxies: IpMatcher,
): { address: string; licenseHeader: string | undefined } {
  const address = clientAddress(peerAddress, header('x-forwarded-for'), trustedProxies);
  record.remoteAddress = address;
  const licenseHeader = header('license-id')?.trim() || undefined;
  if (licenseHeader !== undefined) record.licenseId = licenseHeader;
  return { address, licenseHeader };
}

/** Stamps the answer on a record: its status, the time, how long it took, and the headers sent (lower-case names), if known. */
export function finishRecord(record: RequestRecord, status: number, startedAt: number, responseHeaders?: Record<string, string>): void {
  record.time = new Date().toISOString();
  record.status = status;
  record.durationMs = Math.round(performance.now() - startedAt);
  if (responseHeaders) record.responseHeaders = responseHeaders;
}

/**
 * What happens to a finished record, as separate steps in this order: the client's text cut once
 * (`boundEntry`), the journal entry with the retry discipline (not for the admin API), the log
 * line, the metrics. The answer is out already: a journal the store cannot take is logged, not
 * turned into an error.
 *
 * @example
 * ```ts
 * const keep = recordKeeper({ store, logger, metrics });
 * await keep(record, extras, retryAfterSeconds);
 * ```
 */
export function recordKeeper(sinks: RecordSinks): (record: RequestRecord, extras: RecordExtras, retryAfterSeconds?: number) => Promise<void> {
  return async function keepRecord(record, extras, retryAfterSeconds = NaN) {
    const bounded = boundEntry(record);
    if (!bounded.path.startsWith('/__admin')) await journal(sinks.store, bounded, retryAfterSeconds);
    const line = logLineOf(bounded);
    sinks.logger(line);
    sinks.metrics.observe(line, { storeError: extras.storeError === true, license: extras.authenticated, charged: bounded.charged === true });
  };
}

/**
 * The journal entry. Retry discipline: a client (license and address) that comes back before the
 * `Retry-After` of its last 429 is flagged in the journal and, through the record, in the log.
 */
async function journal(store: MockStore, record: RequestRecord, retryAfterSeconds: number): Promise<void> {
  const retry: RetryWatch | undefined =
    record.licenseId === undefined
      ? undefined
      : {
          client: `${record.licenseId}|${record.remoteAddress ?? ''}`,
          ...(Number.isFinite(retryAfterSeconds) ? { retryAfterMs: retryAfterSeconds * 1000 } : {}),
        };
  const journaled = await store.appendJournal(journalEntryOf(record), retry).catch((error: unknown): { earlyByMs?: number } => {
    console.error(`beia mock: the journal entry of this request is lost: ${(error as Error).message}`);
    return {};
  });
  if (journaled.earlyByMs !== undefined) {
    record.retryTooEarly = true;
    record.earlyByMs = journaled.earlyByMs;
  }
}
