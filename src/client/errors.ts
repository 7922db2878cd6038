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

function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const code = (cause as NodeJS.ErrnoException).code ?? (cause.cause as NodeJS.ErrnoException | undefined)?.code;
  return code ? `${cause.message} (${code})` : cause.message;
}
