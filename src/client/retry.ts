import { BeiaApiError } from '../contract/index.js';
import { BeiaNetworkError, BeiaResultError, BeiaTimeoutError } from './errors.js';

/** How retries back off. */
export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  /** The first backoff ceiling; it doubles with each retry. */
  baseDelayMs: number;
  /** The largest backoff ceiling. */
  maxDelayMs: number;
}

/**
 * Three retries, backing off from 500 ms up to 30 s.
 *
 * @example
 * ```ts
 * new BeiaClient({ licenseId, apiKey, retries: DEFAULT_RETRY_POLICY.retries + 2 });
 * ```
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { retries: 3, baseDelayMs: 500, maxDelayMs: 30_000 };

/**
 * Whether a failed attempt may be tried again without risking a second charge: after a 429 or a
 * 500 (BEIA's own answers, which spend nothing, CONTRACT.md M2), or a network failure or timeout
 * before the request had been sent in full. 400, 401, 402, 403 and 415 are never retried: the
 * same request would fail the same way. Nor are 502, 503 and 504: they come from a gateway, which
 * may have passed the request on to BEIA before failing. Nor is a {@link BeiaResultError}: it
 * follows a 200, so the credit was spent.
 *
 * @example
 * ```ts
 * isRetryable(new TooManyRequestsError({ status: 429 })); // true
 * isRetryable(new BeiaNetworkError(url, true, cause));     // false: it may have been charged
 * ```
 */
export function isRetryable(error: unknown): boolean {
  // A 200 too large to read or without a PNG in it was processed and charged: never again.
  if (error instanceof BeiaResultError) return false;
  if (error instanceof BeiaApiError) return error.status === 429 || error.status === 500;
  if (error instanceof BeiaNetworkError || error instanceof BeiaTimeoutError) return !error.requestSent;
  return false;
}

/**
 * The wait before retry number `retry` (1 for the first): exponential backoff with full jitter
 * (a uniform draw up to `baseDelayMs * 2^(retry-1)`, capped), and never less than the server's
 * `Retry-After` (RFC 9110 section 10.2.3) when it sent one. Undefined when `Retry-After` is
 * longer than `maxDelayMs`: then the error is thrown rather than waited out.
 *
 * @example
 * ```ts
 * retryDelayMs(1, DEFAULT_RETRY_POLICY, 2000, Math.random); // between 2000 and 2500
 * ```
 */
export function retryDelayMs(retry: number, policy: RetryPolicy, retryAfterMs: number | undefined, random: () => number): number | undefined {
  // A server that asks for more than the longest wait we allow is not waited for: the caller gets the error.
  if (retryAfterMs !== undefined && retryAfterMs > policy.maxDelayMs) return undefined;
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  const jittered = Math.round(random() * ceiling);
  return retryAfterMs === undefined ? jittered : retryAfterMs + Math.min(jittered, Math.round(ceiling / 4));
}
