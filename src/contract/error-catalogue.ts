/**
 * The error catalogue, as data: every error the mock can answer, with its HTTP status and a
 * stable `code`. Codes are the API; messages are not (STYLE.md, principle 2). The mock renders
 * from this table and the client maps answers back with {@link errorForStatus}.
 *
 * The statuses 400 to 500 are the vendor page's table (D7). Codes marked
 * `documented: false` are the mock's own: its limits (M10), its routes, its admin API and its
 * recordings (record and replay).
 *
 * @example
 * ```ts
 * import { ERROR_CATALOGUE } from 'beia-kit/contract';
 * ERROR_CATALOGUE.no_credits.status; // 402
 * ```
 */
export const ERROR_CATALOGUE = {
  bad_request: { status: 400, title: 'Missing or invalid parameters', documented: true },
  missing_field: { status: 400, title: 'A required form field is missing', documented: true },
  invalid_field: { status: 400, title: 'A form field has an invalid value', documented: true },
  duplicate_field: { status: 400, title: 'A form field was sent more than once', documented: true },
  missing_license_header: { status: 400, title: 'The License-Id header is missing', documented: true },
  license_header_mismatch: { status: 400, title: 'The License-Id header differs from the licenseId field', documented: true },
  unsupported_content_type: { status: 400, title: 'The body is not multipart/form-data with a boundary', documented: true },
  malformed_multipart: { status: 400, title: 'The multipart/form-data body could not be read', documented: true },
  too_many_parts: { status: 400, title: 'The form has too many parts', documented: true },
  invalid_scenario: { status: 400, title: 'Unknown X-Beia-Mock-Scenario value', documented: false },
  invalid_license: { status: 401, title: 'Invalid license', documented: true },
  no_credits: { status: 402, title: 'No credits remaining', documented: true },
  record_budget_spent: { status: 402, title: 'The recorder has forwarded as many requests as --record-budget allows', documented: false },
  ip_not_allowed: { status: 403, title: 'Unauthorized IP', documented: true },
  not_found: { status: 404, title: 'No such route', documented: false },
  method_not_allowed: { status: 405, title: 'Method not allowed', documented: false },
  request_timeout: { status: 408, title: 'The request (its headers or its body) arrived too slowly', documented: false },
  payload_too_large: { status: 413, title: 'The upload is larger than the limit', documented: false },
  unsupported_file: { status: 415, title: 'Invalid file', documented: true },
  image_too_large: { status: 415, title: 'The image has more pixels than the limit', documented: true },
  image_too_slow: { status: 415, title: 'The image took longer to decode and render than the limit', documented: false },
  no_recording: { status: 415, title: 'No recording of this upload, and the mock replays recordings only (--recordings-strict)', documented: false },
  too_many_requests: { status: 429, title: 'Too many images being processed, please try again later', documented: true },
  headers_too_large: { status: 431, title: "The request line and headers are larger than Node's HTTP parser accepts", documented: false },
  internal_error: { status: 500, title: 'Internal server error', documented: true },
  record_upstream_failed: { status: 502, title: 'The recorder got no answer from the live API', documented: false },
  admin_unauthorized: { status: 401, title: 'The admin API needs the admin token', documented: false },
  admin_invalid_request: { status: 400, title: 'The admin request is not valid', documented: false },
  admin_not_found: { status: 404, title: 'No such license or fault', documented: false },
  admin_cross_origin: { status: 403, title: 'The admin API refuses requests from web pages', documented: false },
  admin_host_not_allowed: { status: 403, title: 'The admin API without a token answers only loopback and allowed host names', documented: false },
  admin_payload_too_large: { status: 413, title: 'The admin request body is larger than the limit', documented: false },
  too_many_licenses: { status: 429, title: 'The store holds as many licenses as admin.maxLicenses allows', documented: false },
} as const satisfies Record<string, { status: number; title: string; documented: boolean }>;

/** A stable error code from the catalogue. */
export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** The statuses of the vendor page's table (D7), with the code that stands for each. */
export const DOCUMENTED_STATUS_CODES = {
  400: 'bad_request',
  401: 'invalid_license',
  402: 'no_credits',
  403: 'ip_not_allowed',
  415: 'unsupported_file',
  429: 'too_many_requests',
  500: 'internal_error',
} as const satisfies Record<number, ErrorCode>;

export type DocumentedErrorStatus = keyof typeof DOCUMENTED_STATUS_CODES;

/** The JSON error envelope the mock sends (M9). Clients must not depend on it being there. */
export interface ErrorBody {
  // Any string: a newer mock or the live API may send codes this version does not know.
  error: { code: ErrorCode | (string & {}); message: string };
}

/** True when `code` is a code of the catalogue. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CATALOGUE, code);
}

/**
 * The catalogue code that stands for an HTTP status, for answers that carry no readable body.
 *
 * @example
 * ```ts
 * errorForStatus(402); // 'no_credits'
 * errorForStatus(418); // undefined
 * ```
 */
export function errorForStatus(status: number): ErrorCode | undefined {
  return (DOCUMENTED_STATUS_CODES as Record<number, ErrorCode>)[status];
}
