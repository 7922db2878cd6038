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

/**
 * The headers and body of the error answer for an {@link ApiError}: the error's own headers,
 * `Credits-Remaining` when told, the body's `Content-Type`; names in lower case, as a `Headers`
 * object lists them. Shared by {@link errorResponse} and the image route on Node's own response.
 */
export function errorAnswer(
  error: ApiError,
  errorBody: MockConfig['rules']['errorBody'],
  creditsRemaining?: number,
): { headers: Record<string, string>; text: string | undefined } {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(error.headers)) headers[name.toLowerCase()] = value;
  if (creditsRemaining !== undefined) headers['credits-remaining'] = String(creditsRemaining);
  const body = errorBodyOf(error, errorBody);
  if (body) headers['content-type'] = body.contentType;
  return { headers, text: body?.text };
}

/** The error answer for an {@link ApiError}, as {@link errorAnswer} makes it. */
export function errorResponse(error: ApiError, errorBody: MockConfig['rules']['errorBody'], creditsRemaining?: number): Response {
  const { headers, text } = errorAnswer(error, errorBody, creditsRemaining);
  return new Response(text ?? null, { status: error.status, headers });
}
