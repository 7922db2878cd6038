import { ERROR_CATALOGUE, type ErrorCode } from '../../contract/index.js';

/**
 * An answer the mock gives instead of an image: a code of the shared catalogue and a message
 * that says what to do. Thrown by the checks, rendered once by the app.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra response headers, e.g. `Retry-After` on a 429. */
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.headers = headers;
  }
}

/**
 * The 500 for a request whose state the store could not read or record (a `StoreError`), logged
 * once: its message already says what failed and that nothing unrecorded was spent.
 */
export function storeFailure(error: Error): ApiError {
  console.error(`beia mock: ${error.message}`);
  return new ApiError('internal_error', `${error.message} Retry.`);
}

/** The 500 for an error no step expected: a bug, logged with the request it broke. */
export function unexpectedFailure(error: unknown, method: string, path: string): ApiError {
  console.error(`beia mock: unexpected error on ${method} ${path}:`, error);
  return new ApiError('internal_error', 'The mock failed unexpectedly; this is a bug in beia-kit, please report it with the log line above.');
}

/** The client went away: there is nobody to answer; release what the request held. */
export class ClientGoneError extends Error {
  override readonly name = 'ClientGoneError';
}
