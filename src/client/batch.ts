import { BeiaApiError } from '../contract/index.js';
import type { BeiaClient, ProcessResult } from './client.js';
import { BeiaNetworkError, BeiaResultError, BeiaTimeoutError } from './errors.js';
import type { ImageInput } from './image-source.js';

export interface BatchItem {
  /** A name for progress and the summary, e.g. the input path. */
  id: string;
  input: ImageInput;
}

export type BatchEvent =
  | { type: 'start'; item: BatchItem }
  | { type: 'done'; item: BatchItem; result: ProcessResult }
  | { type: 'failed'; item: BatchItem; error: unknown }
  | { type: 'stopping'; reason: unknown };

export interface BatchOptions {
  /** Images in flight at once. Default 2. */
  concurrency?: number;
  includeCroppedImage?: boolean;
  /** Stops starting new images; those in flight finish. */
  signal?: AbortSignal;
  /** Called with each result before it counts as done: write it somewhere. A throw makes it a failure. */
  onResult?: (item: BatchItem, result: ProcessResult) => Promise<void> | void;
  onEvent?: (event: BatchEvent) => void;
  /**
   * Stops starting new images after this many in a row got no answer at all (a network failure or
   * a time-out, after the client's own retries): the endpoint is down, and every further image would
   * wait out the same retries. Default 3; 0 never stops for that.
   */
  stopAfterNetworkFailures?: number;
}

/** Why a batch stopped when the endpoint stopped answering: the last failure, and how many in a row. */
export class EndpointUnreachableError extends Error {
  override readonly name = 'EndpointUnreachableError';
  readonly code = 'endpoint_unreachable';
  readonly failuresInARow: number;

  constructor(failuresInARow: number, last: unknown) {
    super(
      `${failuresInARow} images in a row got no answer (the reason is on each); not starting the rest. Check that the endpoint is up, then run the same command again: what is done is skipped.`,
      { cause: last },
    );
    this.failuresInARow = failuresInARow;
  }
}

export interface BatchSummary {
  processed: string[];
  failed: Array<{ id: string; error: unknown }>;
  /** Items never started, because the batch stopped early or was interrupted. */
  notStarted: string[];
  /** The lowest `Credits-Remaining` seen. */
  creditsRemaining: number | undefined;
  /** Why the batch stopped early: the error that would fail every further call, or the abort. */
  stoppedBy?: unknown;
}

/** Statuses after which every further call fails the same way: stop instead of burning through the list. */
const FATAL_STATUSES = new Set([401, 402, 403]);

/**
 * Processes many images with a bounded concurrency, reporting progress through `onEvent`. Stops
 * starting new images after a 401, 402 or 403, after `stopAfterNetworkFailures` images in a row
 * got no answer (an {@link EndpointUnreachableError}), or when `signal` aborts; images in flight
 * finish either way, so nothing paid for is lost.
 *
 * @example
 * ```ts
 * const summary = await processBatch(beia, files.map((f) => ({ id: f, input: f })), {
 *   concurrency: 2,
 *   onResult: (item, { result }) => writeFile(`${item.id}.png`, result),
 * });
 * ```
 */
export async function processBatch(client: BeiaClient, items: readonly BatchItem[], options: BatchOptions = {}): Promise<BatchSummary> {
  const summary: BatchSummary = { processed: [], failed: [], notStarted: [], creditsRemaining: undefined };
  const emit = options.onEvent ?? (() => {});
  let next = 0;
  const stopped = new AbortController();
  const stop = (reason: unknown) => {
    if (summary.stoppedBy !== undefined) return;
    summary.stoppedBy = reason;
    stopped.abort(reason);
    emit({ type: 'stopping', reason });
  };
  const onAbort = () => stop(options.signal?.reason ?? new Error('aborted'));
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const stopAfter = options.stopAfterNetworkFailures ?? 3;
  let networkFailuresInARow = 0;

  const worker = async () => {
    while (summary.stoppedBy === undefined && next < items.length) {
      const item = items[next++]!;
      emit({ type: 'start', item });
      try {
        // Stopping (Ctrl-C, a 402...) ends pending retries too, but never an attempt being sent.
        const result = await client.process(item.input, { includeCroppedImage: options.includeCroppedImage === true, stopRetrying: stopped.signal });
        if (result.creditsRemaining !== undefined) {
          summary.creditsRemaining = Math.min(summary.creditsRemaining ?? Infinity, result.creditsRemaining);
        }
        networkFailuresInARow = 0;
        await options.onResult?.(item, result);
        summary.processed.push(item.id);
        emit({ type: 'done', item, result });
      } catch (error) {
        // A refused 200 (BeiaResultError) is a failed image like an error answer, and tells the credits too.
        if ((error instanceof BeiaApiError || error instanceof BeiaResultError) && error.creditsRemaining !== undefined) {
          summary.creditsRemaining = Math.min(summary.creditsRemaining ?? Infinity, error.creditsRemaining);
        }
        summary.failed.push({ id: item.id, error });
        emit({ type: 'failed', item, error });
        if (error instanceof BeiaApiError && FATAL_STATUSES.has(error.status)) stop(error);
        // Only what got no answer at all counts; an answer (an error status too) proves the endpoint is there.
        const noAnswer = error instanceof BeiaNetworkError || error instanceof BeiaTimeoutError;
        networkFailuresInARow = noAnswer ? networkFailuresInARow + 1 : 0;
        if (noAnswer && stopAfter > 0 && networkFailuresInARow >= stopAfter) stop(new EndpointUnreachableError(networkFailuresInARow, error));
      }
    }
  };

  try {
    const concurrency = Math.max(1, Math.min(options.concurrency ?? 2, items.length || 1));
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  summary.notStarted = items.slice(next).map((item) => item.id);
  return summary;
}
