import type { ErrorBody } from '../../contract/index.js';
import type { MockConfig } from '../config/index.js';
import type { ApiError } from './api-error.js';

/**
 * The body of an error answer in the format the config chooses (M9): the JSON envelope
 * `{"error":{"code","message"}}`, plain text, or none (undefined). Shared by {@link errorResponse}
 * and the answers written straight to a socket (`client-error.ts`).
 */
export function errorBodyOf(error: ApiError, errorBody: MockConfig['rules']['errorBody']): { contentType: string; text: string } | undefined {
  if (errorBody === 'none') return undefined;
  if (errorBody === 'text') return { contentType: 'text/plain; charset=utf-8', text: `${error.code}: ${error.message}\n` };
  const body: ErrorBody = { error: { code: error.code, message: error.message } };
  return { contentType: 'application/json; charset=utf-8', text: JSON.stringify(body) };
}

/** The error answer for an {@link ApiError}, its body as {@link errorBodyOf} makes it. */
export function errorResponse(error: ApiError, errorBody: MockConfig['rules']['errorBody'], creditsRemaining?: number): Response {
  const headers = new Headers(error.headers);
  if (creditsRemaining !== undefined) headers.set('Credits-Remaining', String(creditsRemaining));
  const body = errorBodyOf(error, errorBody);
  if (body === undefined) return new Response(null, { status: error.status, headers });
  headers.set('Content-Type', body.contentType);
  return new Response(body.text, { status: error.status, headers });
}
