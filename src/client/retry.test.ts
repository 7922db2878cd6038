import { describe, expect, it } from 'vitest';
import { BadRequestError, NoCreditsError, ServerError, TooManyRequestsError } from '../contract/index.js';
import { BeiaNetworkError, BeiaResultError, BeiaTimeoutError } from './errors.js';
import { DEFAULT_RETRY_POLICY, isRetryable, retryDelayMs } from './retry.js';

describe('isRetryable: never risks paying twice', () => {
  it('retries 429 and 5xx, never 400, 401, 402, 403 or 415', () => {
    expect(isRetryable(new TooManyRequestsError({ status: 429 }))).toBe(true);
    expect(isRetryable(new ServerError({ status: 500 }))).toBe(true);
    expect(isRetryable(new ServerError({ status: 502 }))).toBe(false);
    expect(isRetryable(new ServerError({ status: 504 }))).toBe(false);
    expect(isRetryable(new NoCreditsError({ status: 402 }))).toBe(false);
    expect(isRetryable(new BadRequestError({ status: 400 }))).toBe(false);
  });

  it('retries a transport failure only when the request had not been sent', () => {
    expect(isRetryable(new BeiaNetworkError('http://x', false, new Error('refused')))).toBe(true);
    expect(isRetryable(new BeiaNetworkError('http://x', true, new Error('reset')))).toBe(false);
    expect(isRetryable(new BeiaTimeoutError('http://x', 10, true))).toBe(false);
    expect(isRetryable(new Error('anything else'))).toBe(false);
  });

  it('never retries a refused 200 (BeiaResultError): the credit was spent', () => {
    expect(isRetryable(new BeiaResultError({ code: 'result_too_large', limit: 10, bytesRead: 11 }))).toBe(false);
    expect(isRetryable(new BeiaResultError({ code: 'invalid_png', limit: 10, bytesRead: 8, part: 'result', partBytes: 8, problem: 'x' }))).toBe(false);
  });
});

describe('retryDelayMs', () => {
  const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1000 };
  it('draws up to a ceiling that doubles each retry, capped (full jitter)', () => {
    expect(retryDelayMs(1, policy, undefined, () => 0.999)).toBe(100);
    expect(retryDelayMs(3, policy, undefined, () => 0.999)).toBe(400);
    expect(retryDelayMs(10, policy, undefined, () => 0.999)).toBe(999);
    expect(retryDelayMs(3, policy, undefined, () => 0)).toBe(0);
  });

  it("never waits less than the server's Retry-After", () => {
    expect(retryDelayMs(1, policy, 800, () => 0)).toBe(800);
    expect(retryDelayMs(1, policy, 800, () => 0.999)).toBe(825);
  });

  it('does not wait out a Retry-After longer than maxDelayMs: the error is thrown instead', () => {
    expect(retryDelayMs(1, policy, 3_600_000, () => 0)).toBeUndefined();
  });
});
