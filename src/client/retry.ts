import { BeiaApiError } from '../contract/index.js';
import { BeiaNetworkError, BeiaTimeoutError } from './errors.js';

/** How retries back off. */
export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  /** The first backoff ceiling; it doubles with each retry. */
  baseDelayMs: number;
  /** The largest backoff ceiling. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { retries: 3, baseDelayMs: 500, maxDelayMs: 30_000 };

/**
 * Whether a failed attempt may be tried again without risking a second charge: after a 429 or a
 * 5xx answer (which spend nothing, CONTRACT.md M2), or a network failure or timeout before the
 * request had been sent in full. 400, 401, 402, 403 and 415 are never retried: the same request
 * would fail the same way.
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof BeiaApiError) return error.status === 429 || error.status >= 500;
  if (error instanceof BeiaNetworkError || error instanceof BeiaTimeoutError) return !error.requestSent;
  return false;
}

/**
 * The wait before retry number `retry` (1 for the first): exponential backoff with full jitter
 * (a uniform draw up to `baseDelayMs * 2^(retry-1)`, capped), and never less than the server's
 * `Retry-After` (RFC 9110 section 10.2.3) when it sent one.
 *
 * @example
 * ```ts
 * retryDelayMs(1, DEFAULT_RETRY_POLICY, 2000, Math.random); // between 2000 and 2500
 * ```
 */
export function retryDelayMs(retry: number, policy: RetryPolicy, retryAfterMs: number | undefined, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  const jittered = Math.round(random() * ceiling);
  return retryAfterMs === undefined ? jittered : retryAfterMs + Math.min(jittered, Math.round(ceiling / 4));
}
