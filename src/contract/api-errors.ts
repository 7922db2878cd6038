import { DOCUMENTED_STATUS_CODES, type ErrorCode } from './error-catalogue.js';

// Shared by every copy of beia-kit loaded in a process, so `instanceof` works across copies.
const KINDS = Symbol.for('beia-kit.error-kinds');

type Branded = { [KINDS]?: readonly string[] };

/**
 * The base of every error beia-kit throws. `instanceof` checks a brand registered with
 * `Symbol.for`, not the prototype chain, so it holds even when two copies of the package are
 * installed (a library and an app pinning different versions).
 *
 * @example
 * ```ts
 * try { await client.process('photo.jpg'); }
 * catch (error) { if (error instanceof BeiaError) console.error(error.code, error.message); }
 * ```
 */
export class BeiaError extends Error {
  /** The kind this class stands for; each subclass sets its own. */
  static readonly kind: string = 'BeiaError';
  override readonly name: string = 'BeiaError';
  /** A stable machine-readable code; messages may change, codes do not. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    const kinds: string[] = [];
    for (let type = new.target as unknown as { kind?: string } | null; type && type.kind; type = Object.getPrototypeOf(type) as { kind?: string } | null)
      kinds.push(type.kind);
    Object.defineProperty(this, KINDS, { value: kinds, enumerable: false });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    const kinds = (value as Branded | null)?.[KINDS];
    return Array.isArray(kinds) && kinds.includes((this as unknown as { kind: string }).kind);
  }
}

/** What the server said besides the status: the numbers a caller may act on. */
export interface ApiErrorDetails {
  status: number;
  /** The catalogue's code for the status. */
  code?: string;
  /** The code the server's own body gave, when it had one: the live API's format is unknown. */
  serverCode?: string;
  /** `Credits-Remaining`, when the answer had it. */
  creditsRemaining?: number;
  /** `Retry-After`, in milliseconds, when the answer had it. */
  retryAfterMs?: number;
  /** The server's own message, when its body had one. */
  serverMessage?: string;
}

/**
 * An error answer from the BEIA API (or the mock). One subclass per documented meaning (D7).
 *
 * @example
 * ```ts
 * if (error instanceof BeiaApiError) console.log(error.status, error.creditsRemaining);
 * ```
 */
export class BeiaApiError extends BeiaError {
  static override readonly kind: string = 'BeiaApiError';
  override readonly name: string = 'BeiaApiError';
  readonly status: number;
  readonly creditsRemaining: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly serverMessage: string | undefined;
  readonly serverCode: string | undefined;

  constructor(details: ApiErrorDetails, advice: string) {
    const code = details.code ?? 'unexpected_status';
    const said = details.serverMessage ? ` The server said: ${details.serverMessage}` : '';
    super(code, `${advice}${said}`);
    this.status = details.status;
    this.creditsRemaining = details.creditsRemaining;
    this.retryAfterMs = details.retryAfterMs;
    this.serverMessage = details.serverMessage;
    this.serverCode = details.serverCode;
  }
}

/**
 * 400: a field is missing or invalid, or the `License-Id` header does not match.
 *
 * @example
 * ```ts
 * if (error instanceof BadRequestError) console.error(error.serverMessage ?? error.message);
 * ```
 */
export class BadRequestError extends BeiaApiError {
  static override readonly kind = 'BadRequestError';
  override readonly name = 'BadRequestError';
  constructor(details: ApiErrorDetails) {
    super(
      details,
      'BEIA refused the request as missing or invalid parameters (400): send licenseId, apiKey and image as multipart/form-data, and a License-Id header equal to licenseId.',
    );
  }
}

/**
 * 401: the license is unknown or the API key is wrong.
 *
 * @example
 * ```ts
 * if (error instanceof InvalidLicenseError) throw new Error('Check BEIA_LICENSE_ID and BEIA_API_KEY', { cause: error });
 * ```
 */
export class InvalidLicenseError extends BeiaApiError {
  static override readonly kind = 'InvalidLicenseError';
  override readonly name = 'InvalidLicenseError';
  constructor(details: ApiErrorDetails) {
    super(details, 'BEIA did not accept the license (401): check licenseId and apiKey.');
  }
}

/**
 * 402: the license has no credits left. Never retried.
 *
 * @example
 * ```ts
 * if (error instanceof NoCreditsError) alertBilling(error.creditsRemaining); // 0
 * ```
 */
export class NoCreditsError extends BeiaApiError {
  static override readonly kind = 'NoCreditsError';
  override readonly name = 'NoCreditsError';
  constructor(details: ApiErrorDetails) {
    super(details, 'The license has no credits left (402): buy credits from BEIA before sending more images.');
  }
}

/**
 * 403: the request came from an address not registered for the license.
 *
 * @example
 * ```ts
 * if (error instanceof IpNotAllowedError) console.error('Send from the registered static IP');
 * ```
 */
export class IpNotAllowedError extends BeiaApiError {
  static override readonly kind = 'IpNotAllowedError';
  override readonly name = 'IpNotAllowedError';
  constructor(details: ApiErrorDetails) {
    super(
      details,
      'BEIA refused this source IP (403): requests must come from a static IP registered with BEIA for this license; register it with BEIA support, or send from the registered host.',
    );
  }
}

/**
 * 415: the file is not an image BEIA can read.
 *
 * @example
 * ```ts
 * if (error instanceof UnsupportedFileError) skip(file); // nothing was spent
 * ```
 */
export class UnsupportedFileError extends BeiaApiError {
  static override readonly kind = 'UnsupportedFileError';
  override readonly name = 'UnsupportedFileError';
  constructor(details: ApiErrorDetails) {
    super(details, 'BEIA could not read the file as an image (415): send a complete JPEG or PNG.');
  }
}

/**
 * 429: too many images in processing for now; retry after `retryAfterMs`.
 *
 * @example
 * ```ts
 * if (error instanceof TooManyRequestsError) await sleep(error.retryAfterMs ?? 1000);
 * ```
 */
export class TooManyRequestsError extends BeiaApiError {
  static override readonly kind = 'TooManyRequestsError';
  override readonly name = 'TooManyRequestsError';
  constructor(details: ApiErrorDetails) {
    super(details, 'BEIA has too many images in processing (429): retry later, or send fewer at once (lower the concurrency).');
  }
}

/**
 * 500 (or any 5xx): the server failed.
 *
 * @example
 * ```ts
 * if (error instanceof ServerError) console.error(`BEIA failed: ${error.status}`);
 * ```
 */
export class ServerError extends BeiaApiError {
  static override readonly kind = 'ServerError';
  override readonly name = 'ServerError';
  constructor(details: ApiErrorDetails) {
    super(details, `BEIA failed with an internal error (${details.status}): retry later; contact BEIA support if it persists.`);
  }
}

/**
 * Any other status: not in the vendor's table.
 *
 * @example
 * ```ts
 * if (error instanceof UnexpectedStatusError) console.error(`Is ${endpoint} the BEIA API? It answered ${error.status}`);
 * ```
 */
export class UnexpectedStatusError extends BeiaApiError {
  static override readonly kind = 'UnexpectedStatusError';
  override readonly name = 'UnexpectedStatusError';
  constructor(details: ApiErrorDetails) {
    super(details, `BEIA answered with status ${details.status}, which its documentation does not list: check the endpoint URL.`);
  }
}

const BY_STATUS: Record<number, new (details: ApiErrorDetails) => BeiaApiError> = {
  400: BadRequestError,
  401: InvalidLicenseError,
  402: NoCreditsError,
  403: IpNotAllowedError,
  415: UnsupportedFileError,
  429: TooManyRequestsError,
  500: ServerError,
};

/** What an error answer looked like: its status, headers and body text (possibly empty). */
export interface ErrorAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined> | Headers;
  body: string;
}

/**
 * The error class for an error answer: chosen by status (D7), with the code from the JSON
 * envelope when there is one (M9) and the catalogue's code otherwise. Works for bodies in any
 * format or none: the live API's error body is unknown.
 *
 * @example
 * ```ts
 * const error = errorFromAnswer({ status: 402, headers: { 'credits-remaining': '0' }, body: '' });
 * error instanceof NoCreditsError; // true
 * ```
 */
export function errorFromAnswer(answer: ErrorAnswer): BeiaApiError {
  const header = (name: string) => {
    const value = answer.headers instanceof Headers ? answer.headers.get(name) : answer.headers[name];
    return Array.isArray(value) ? value[0] : (value ?? undefined);
  };
  const details: ApiErrorDetails = { status: answer.status };
  const envelope = readEnvelope(answer.body);
  // The class and `code` follow the status (D7): a code in the body is kept aside as `serverCode`,
  // since the live API's body format is unknown and must not change what the error means.
  const catalogueCode: ErrorCode | undefined = (DOCUMENTED_STATUS_CODES as Record<number, ErrorCode>)[answer.status];
  if (catalogueCode) details.code = catalogueCode;
  else if (answer.status >= 500) details.code = 'internal_error';
  if (envelope?.code) details.serverCode = envelope.code;
  const credits = parseCredits(header('credits-remaining'));
  if (credits !== undefined) details.creditsRemaining = credits;
  const retryAfter = parseRetryAfter(header('retry-after'));
  if (retryAfter !== undefined) details.retryAfterMs = retryAfter;
  const message = envelope?.message ?? plainText(answer.body);
  if (message) details.serverMessage = message;
  const Type = BY_STATUS[answer.status] ?? (answer.status >= 500 ? ServerError : UnexpectedStatusError);
  return new Type(details);
}

/**
 * `Credits-Remaining` as a whole number, or undefined when absent or not a number.
 *
 * @example
 * ```ts
 * parseCredits(response.headers.get('credits-remaining')); // 99
 * ```
 */
export function parseCredits(value: string | null | undefined): number | undefined {
  if (value === undefined || value === null || !/^\s*\d+\s*$/.test(value)) return undefined;
  return Number(value);
}

/**
 * `Retry-After` (RFC 9110 section 10.2.3): delay-seconds or an HTTP date, in milliseconds from `now`.
 *
 * @example
 * ```ts
 * parseRetryAfter('2'); // 2000
 * parseRetryAfter('1.5'); // undefined: neither seconds nor a date
 * ```
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // Only an HTTP-date (IMF-fixdate, or the obsolete forms, all in GMT); "1.5" is not one.
  if (!/^[A-Za-z]{3},? .* GMT$/.test(trimmed) && !/^[A-Za-z]{3} [A-Za-z]{3} .* \d{4}$/.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function readEnvelope(body: string): { code?: string; message?: string } | undefined {
  if (!body.trimStart().startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    const error = parsed?.error;
    if (!error || typeof error !== 'object') return undefined;
    const result: { code?: string; message?: string } = {};
    if (typeof error.code === 'string') result.code = error.code;
    if (typeof error.message === 'string') result.message = error.message;
    return result;
  } catch {
    return undefined;
  }
}

function plainText(body: string): string | undefined {
  const text = body.trim();
  if (!text || text.startsWith('<') || text.startsWith('{')) return undefined;
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

/**
 * A 200 whose body could not be read as the contract says (D4, D5).
 *
 * @example
 * ```ts
 * if (error instanceof UnreadableResponseError) console.error(error.message); // says what it saw
 * ```
 */
export class UnreadableResponseError extends BeiaError {
  static override readonly kind = 'UnreadableResponseError';
  override readonly name = 'UnreadableResponseError';
  constructor(message: string) {
    super('unreadable_response', message);
  }
}
