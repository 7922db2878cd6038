import { BeiaError } from '../contract/index.js';

/**
 * The request failed on the network: refused, reset, or closed before an answer. `requestSent`
 * tells whether the whole request had gone out: if it had, BEIA may have processed (and charged)
 * it, so the client did not retry.
 *
 * @example
 * ```ts
 * if (error instanceof BeiaNetworkError && error.requestSent) await checkCreditsBeforeResending();
 * ```
 */
export class BeiaNetworkError extends BeiaError {
  static override readonly kind = 'BeiaNetworkError';
  override readonly name = 'BeiaNetworkError';
  readonly requestSent: boolean;

  constructor(endpoint: string, requestSent: boolean, cause: unknown) {
    const reason = describeCause(cause);
    super(
      'network_error',
      requestSent
        ? `Failed to get an answer from ${endpoint}: ${reason}. The request had been sent, so it may have been processed and charged; check Credits-Remaining before sending it again.`
        : `Failed to reach ${endpoint}: ${reason}. Check the endpoint URL and the network; nothing was charged.`,
      { cause },
    );
    this.requestSent = requestSent;
  }
}

/**
 * No answer within `timeoutMs`. Like {@link BeiaNetworkError}, `requestSent` says whether it may have been charged.
 *
 * @example
 * ```ts
 * if (error instanceof BeiaTimeoutError) console.error(`no answer in ${error.timeoutMs} ms`);
 * ```
 */
export class BeiaTimeoutError extends BeiaError {
  static override readonly kind = 'BeiaTimeoutError';
  override readonly name = 'BeiaTimeoutError';
  readonly requestSent: boolean;
  readonly timeoutMs: number;

  constructor(endpoint: string, timeoutMs: number, requestSent: boolean) {
    super(
      'timeout',
      `No answer from ${endpoint} within ${timeoutMs} ms. ${requestSent ? 'The request had been sent, so it may have been processed and charged; raise timeoutMs for large images.' : 'Nothing was sent in full, so nothing was charged.'}`,
    );
    this.requestSent = requestSent;
    this.timeoutMs = timeoutMs;
  }
}

/** The image file changed size while it was being sent: the request was cut short, nothing was charged. */
export class InputChangedError extends BeiaError {
  static override readonly kind = 'InputChangedError';
  override readonly name = 'InputChangedError';
  constructor(filename: string, expected: number, sent: number) {
    super(
      'input_changed',
      `Failed to send ${filename}: it was ${expected} bytes when the upload began, and ${sent} bytes were read. Nothing was charged; send it again once the file is complete.`,
    );
  }
}

/** The codes of {@link BeiaResultError}: the answer was too large to read, or an image in it is not a PNG. */
export type BeiaResultErrorCode = 'result_too_large' | 'invalid_png';

/** What went wrong with a 200 answer, for {@link BeiaResultError}. */
export type BeiaResultErrorDetails =
  | {
      code: 'result_too_large';
      /** `maxResultBytes`. */
      limit: number;
      /** Bytes of the answer read before reading stopped; 0 when `Content-Length` alone refused it. */
      bytesRead: number;
      /** The answer's `Content-Length`, when it said more than `limit`. */
      declaredBytes?: number;
      creditsRemaining?: number;
    }
  | {
      code: 'invalid_png';
      limit: number;
      /** Bytes of the whole answer. */
      bytesRead: number;
      /** The image that is not a PNG: the result, or the cropped part of a multipart/mixed answer. */
      part: 'result' | 'cropped';
      /** Bytes of that image. */
      partBytes: number;
      /** What is wrong with it, e.g. `it ends after the PNG signature, with no IHDR chunk`. */
      problem: string;
      creditsRemaining?: number;
    };

/**
 * A 200 answer that the client refused to return: larger than `maxResultBytes`
 * (`result_too_large`: reading stopped there, the connection was closed), or with a result or
 * cropped image that is not a PNG (`invalid_png`: no PNG signature followed by a valid `IHDR`).
 * Never retried: a 200 means the image was processed and the credit spent, so sending it again
 * would pay twice.
 *
 * @example
 * ```ts
 * if (error instanceof BeiaResultError && error.code === 'result_too_large') console.error(`over ${error.limit} bytes`);
 * ```
 */
export class BeiaResultError extends BeiaError {
  static override readonly kind = 'BeiaResultError';
  override readonly name = 'BeiaResultError';
  declare readonly code: BeiaResultErrorCode;
  /** `maxResultBytes` of the client. */
  readonly limit: number;
  /** Bytes of the answer read. */
  readonly bytesRead: number;
  /** `Content-Length`, when it alone said the answer was too large. */
  readonly declaredBytes: number | undefined;
  /** For `invalid_png`: which image is not a PNG. */
  readonly part: 'result' | 'cropped' | undefined;
  /** `Credits-Remaining` of the answer, when it had one: the credit is spent. */
  readonly creditsRemaining: number | undefined;

  constructor(details: BeiaResultErrorDetails) {
    const charged = 'The image was processed and charged (a 200 was answered), so it is not sent again';
    super(
      details.code,
      details.code === 'result_too_large'
        ? details.declaredBytes !== undefined
          ? `Failed to read the result: its Content-Length is ${details.declaredBytes} bytes, over maxResultBytes (${details.limit}), so none of it was read. ${charged}; raise maxResultBytes if results this large are expected, else check that the endpoint is the BEIA image API.`
          : `Failed to read the result: the answer passed maxResultBytes (${details.limit}) and reading stopped at ${details.bytesRead} bytes. ${charged}; raise maxResultBytes if results this large are expected, else check that the endpoint is the BEIA image API.`
        : `Failed to read the ${details.part === 'cropped' ? 'cropped image' : 'result'}: its ${details.partBytes} bytes are not a PNG (${details.problem}). ${charged}; check that the endpoint is the BEIA image API, and report the answer to BEIA if it is.`,
    );
    this.limit = details.limit;
    this.bytesRead = details.bytesRead;
    this.declaredBytes = details.code === 'result_too_large' ? details.declaredBytes : undefined;
    this.part = details.code === 'invalid_png' ? details.part : undefined;
    this.creditsRemaining = details.creditsRemaining;
  }
}

function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const code = (cause as NodeJS.ErrnoException).code ?? (cause.cause as NodeJS.ErrnoException | undefined)?.code;
  return code ? `${cause.message} (${code})` : cause.message;
}
