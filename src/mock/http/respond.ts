import type { ErrorBody } from '../../contract/index.js';
import type { MockConfig } from '../config/index.js';
import type { ApiError } from './api-error.js';

/**
 * The error answer for an {@link ApiError}, in the body format the config chooses (M9):
 * the JSON envelope `{"error":{"code","message"}}`, plain text, or no body at all.
 */
export function errorResponse(error: ApiError, errorBody: MockConfig['rules']['errorBody'], creditsRemaining?: number): Response {
  const headers = new Headers(error.headers);
  if (creditsRemaining !== undefined) headers.set('Credits-Remaining', String(creditsRemaining));
  if (errorBody === 'none') return new Response(null, { status: error.status, headers });
  if (errorBody === 'text') {
    headers.set('Content-Type', 'text/plain; charset=utf-8');
    return new Response(`${error.code}: ${error.message}\n`, { status: error.status, headers });
  }
  headers.set('Content-Type', 'application/json; charset=utf-8');
  const body: ErrorBody = { error: { code: error.code, message: error.message } };
  return new Response(JSON.stringify(body), { status: error.status, headers });
}
