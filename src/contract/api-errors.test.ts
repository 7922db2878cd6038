import { describe, expect, it } from 'vitest';
import {
  BadRequestError,
  BeiaApiError,
  NoCreditsError,
  ServerError,
  TooManyRequestsError,
  UnexpectedStatusError,
  errorFromAnswer,
  parseRetryAfter,
} from './api-errors.js';

describe('errorFromAnswer', () => {
  it('takes the code and message from the JSON envelope (M9)', () => {
    const error = errorFromAnswer({ status: 400, headers: {}, body: '{"error":{"code":"missing_field","message":"Field apiKey is missing."}}' });
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ code: 'bad_request', serverCode: 'missing_field', status: 400, serverMessage: 'Field apiKey is missing.' });
    expect(error.message).toMatch(/^BEIA refused the request .* The server said: Field apiKey is missing\.$/);
  });

  it('keeps the class and code of the status even when the body names another code', () => {
    const error = errorFromAnswer({ status: 400, headers: {}, body: '{"error":{"code":"invalid_license","message":"x"}}' });
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ code: 'bad_request', serverCode: 'invalid_license' });
    expect(error.name).toBe('BadRequestError');
  });

  it('works on a plain-text body or none, with the catalogue code for the status', () => {
    expect(errorFromAnswer({ status: 402, headers: { 'credits-remaining': '0' }, body: 'No credits' })).toMatchObject({
      code: 'no_credits',
      creditsRemaining: 0,
      serverMessage: 'No credits',
    });
    expect(errorFromAnswer({ status: 402, headers: {}, body: '' })).toBeInstanceOf(NoCreditsError);
    expect(errorFromAnswer({ status: 402, headers: {}, body: '<html>oops</html>' }).serverMessage).toBeUndefined();
  });

  it('reads Retry-After in seconds or as an HTTP date', () => {
    expect(errorFromAnswer({ status: 429, headers: new Headers({ 'retry-after': '2' }), body: '' })).toMatchObject({ retryAfterMs: 2000 });
    expect(errorFromAnswer({ status: 429, headers: {}, body: '' })).toBeInstanceOf(TooManyRequestsError);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(10_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter('1.5')).toBeUndefined();
  });

  it('maps other 5xx to ServerError and unknown statuses to UnexpectedStatusError', () => {
    expect(errorFromAnswer({ status: 503, headers: {}, body: '' })).toBeInstanceOf(ServerError);
    const odd = errorFromAnswer({ status: 418, headers: {}, body: '' });
    expect(odd).toBeInstanceOf(UnexpectedStatusError);
    expect(odd).toBeInstanceOf(BeiaApiError);
    expect(odd.code).toBe('unexpected_status');
  });

  it('ignores a Credits-Remaining that is not a whole number', () => {
    expect(errorFromAnswer({ status: 415, headers: { 'credits-remaining': 'many' }, body: '' }).creditsRemaining).toBeUndefined();
  });
});
