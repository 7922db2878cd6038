import { setTimeout as sleep } from 'node:timers/promises';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { HEADER, LIVE_ENDPOINT, UnreadableResponseError, decodeMultipartMixed, errorFromAnswer, parseCredits, readImageBundle } from '../contract/index.js';
import { BeiaNetworkError, BeiaResultError, BeiaTimeoutError, InputChangedError } from './errors.js';
import { formBody } from './form-body.js';
import { undici } from './undici.js';
import { imageSource, type ImageInput } from './image-source.js';
import { DEFAULT_MAX_RESULT_BYTES, discard, hasPngSignature, pngProblem, readBounded } from './result-checks.js';
import { DEFAULT_RETRY_POLICY, isRetryable, retryDelayMs, type RetryPolicy } from './retry.js';
import { redactUrl, Semaphore } from '../shared/index.js';
import { networkDispatcher, type NetworkOptions } from './network.js';

export interface BeiaClientOptions {
  /** The image endpoint; the live one from the vendor page by default. */
  endpoint?: string;
  licenseId: string;
  apiKey: string;
  /** Per attempt, from sending to the last byte of the answer. Default 120 000. */
  timeoutMs?: number;
  /** Retries after a 429, a 500, or a failure before the request was sent. Default 3. */
  retries?: number;
  /** Backoff: first ceiling and largest ceiling, in ms. Defaults 500 and 30 000. */
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /** Images in flight at once from this client, so a batch does not trip the 429. Default 2. */
  maxConcurrent?: number;
  /**
   * The most bytes read of a 200 answer (the PNG, or the whole multipart/mixed body). A larger
   * answer is a `BeiaResultError` with code `result_too_large`: refused at once when its
   * `Content-Length` says so, else reading stops (and the connection is closed) as soon as it
   * passes the limit. Default 64 MiB.
   */
  maxResultBytes?: number;
  /** An undici dispatcher of your own (not with `proxy`, `ca` or `sourceAddress`, which make one). */
  dispatcher?: Dispatcher;
  /** A forward proxy (see {@link NetworkOptions}); `proxyFromEnvironment(process.env)` reads HTTPS_PROXY, HTTP_PROXY, NO_PROXY as curl does. */
  proxy?: NetworkOptions['proxy'];
  /** More CA certificates (PEM) to trust: a TLS-inspecting proxy's, or `beia mock --https`'s. */
  ca?: NetworkOptions['ca'];
  /** The local address requests leave from: the registered static IP on a runner with several. */
  sourceAddress?: string;
  /** Called before each retry: for logs and progress. */
  onRetry?: (info: RetryInfo) => void;
  /** Randomness for the jitter; `Math.random` by default. */
  random?: () => number;
}

export interface RetryInfo {
  attempt: number;
  delayMs: number;
  error: unknown;
}

export interface ProcessOptions {
  /** Ask for the cropped image too (D5): the answer is multipart/mixed. */
  includeCroppedImage?: boolean;
  signal?: AbortSignal;
  /** The filename sent with the image; the file's own name, or "image", by default. */
  filename?: string;
  /**
   * When this aborts, no further attempt is made: a pending retry gives up with the last error,
   * but an attempt already being sent is left to finish, so nothing paid for is lost. Batches use
   * it for Ctrl-C.
   */
  stopRetrying?: AbortSignal;
}

export interface ProcessResult {
  /** The processed image, PNG bytes. */
  result: Uint8Array;
  /** The cropped image, when asked for and sent. */
  cropped?: Uint8Array;
  /** `Credits-Remaining` (D6), or the `credits` part when the header is missing. */
  creditsRemaining: number | undefined;
  /** Attempts made, 1 when the first one succeeded. */
  attempts: number;
}

const MAX_ERROR_BODY = 64 * 1024;

/**
 * The reference client of the BEIA image API, on undici. Typed errors from the shared catalogue,
 * retries that never risk paying twice, and a concurrency cap.
 *
 * @example
 * ```ts
 * import { BeiaClient, NoCreditsError } from 'beia-kit/client';
 *
 * const beia = new BeiaClient({ licenseId: '1234', apiKey: process.env.BEIA_API_KEY! });
 * const { result, creditsRemaining } = await beia.process('./001.jpg');
 * await writeFile('result.png', result);
 * ```
 */
export class BeiaClient {
  readonly endpoint: string;
  readonly #licenseId: string;
  readonly #apiKey: string;
  readonly #timeoutMs: number;
  readonly #maxResultBytes: number;
  readonly #retry: RetryPolicy;
  readonly #slots: Semaphore;
  readonly #dispatcher: Dispatcher | undefined;
  readonly #onRetry: ((info: RetryInfo) => void) | undefined;
  readonly #random: () => number;

  constructor(options: BeiaClientOptions) {
    if (!options?.licenseId || !options.apiKey) {
      throw new TypeError('BeiaClient needs licenseId and apiKey: pass them, e.g. from BEIA_LICENSE_ID and BEIA_API_KEY.');
    }
    this.endpoint = options.endpoint ?? LIVE_ENDPOINT;
    try {
      const url = new URL(this.endpoint);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
    } catch {
      throw new TypeError(`endpoint is "${this.endpoint}"; expected an http(s) URL such as ${LIVE_ENDPOINT}.`);
    }
    this.#licenseId = options.licenseId;
    this.#apiKey = options.apiKey;
    this.#timeoutMs = positive('timeoutMs', options.timeoutMs ?? 120_000);
    this.#maxResultBytes = byteCount('maxResultBytes', options.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES);
    this.#retry = {
      retries: whole('retries', options.retries ?? DEFAULT_RETRY_POLICY.retries),
      baseDelayMs: whole('retryBaseDelayMs', options.retryBaseDelayMs ?? DEFAULT_RETRY_POLICY.baseDelayMs),
      maxDelayMs: whole('retryMaxDelayMs', options.retryMaxDelayMs ?? DEFAULT_RETRY_POLICY.maxDelayMs),
    };
    this.#slots = new Semaphore(options.maxConcurrent ?? 2);
    const network = { proxy: options.proxy, ca: options.ca, sourceAddress: options.sourceAddress };
    if (options.dispatcher && Object.values(network).some((value) => value !== undefined)) {
      throw new TypeError('Pass either a dispatcher of your own or proxy/ca/sourceAddress (which make one), not both.');
    }
    this.#dispatcher =
      options.dispatcher ??
      networkDispatcher({
        ...(network.proxy !== undefined ? { proxy: network.proxy } : {}),
        ...(network.ca !== undefined ? { ca: network.ca } : {}),
        ...(network.sourceAddress !== undefined ? { sourceAddress: network.sourceAddress } : {}),
      });
    this.#onRetry = options.onRetry;
    this.#random = options.random ?? Math.random;
  }

  /** The license this client sends; never the key. */
  get licenseId(): string {
    return this.#licenseId;
  }

  /**
   * Sends one image and resolves with the result (and the cropped image when asked). Throws a
   * `BeiaApiError` subclass for an error answer (`NoCreditsError`, `IpNotAllowedError`, ...),
   * `BeiaNetworkError` or `BeiaTimeoutError` for the transport, `BeiaResultError` for a 200 over
   * `maxResultBytes` or whose image is not a PNG, `UnreadableResponseError` for another 200 it
   * cannot read, or the signal's reason when aborted.
   *
   * @example
   * ```ts
   * const { result, cropped } = await beia.process(buffer, { includeCroppedImage: true, filename: 'a.jpg' });
   * ```
   */
  async process(image: ImageInput, options: ProcessOptions = {}): Promise<ProcessResult> {
    const { signal, stopRetrying } = options;
    signal?.throwIfAborted();
    const source = await imageSource(image, options.filename, signal);
    const body = formBody({ licenseId: this.#licenseId, apiKey: this.#apiKey, includeCroppedImage: options.includeCroppedImage === true }, source);
    const release = await this.#slots.acquire(signal);
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          const outcome = await this.#attempt(body, signal);
          return { ...outcome, attempts: attempt };
        } catch (error) {
          if (signal?.aborted || stopRetrying?.aborted || attempt > this.#retry.retries || !isRetryable(error)) throw error;
          const retryAfterMs = (error as { retryAfterMs?: number }).retryAfterMs;
          const delayMs = retryDelayMs(attempt, this.#retry, retryAfterMs, this.#random);
          if (delayMs === undefined) throw error;
          this.#onRetry?.({ attempt, delayMs, error });
          const waits = [signal, stopRetrying].filter((s): s is AbortSignal => s !== undefined);
          await sleep(delayMs, undefined, waits.length ? { signal: AbortSignal.any(waits) } : {}).catch(() => {
            signal?.throwIfAborted();
            throw error; // told to stop retrying: the last answer stands
          });
        }
      }
    } finally {
      release();
    }
  }

  async #attempt(body: ReturnType<typeof formBody>, signal: AbortSignal | undefined): Promise<Omit<ProcessResult, 'attempts'>> {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const response = await this.#send(body, signal, timeout);
    const creditsHeader = parseCredits(firstHeader(response, HEADER.creditsRemaining));
    const bytes = await this.#readBody(response, creditsHeader, signal, timeout);
    if (response.statusCode !== 200) {
      throw errorFromAnswer({ status: response.statusCode, headers: response.headers, body: new TextDecoder().decode(bytes) });
    }
    return readResult(bytes, firstHeader(response, 'content-type') ?? '', creditsHeader, this.#maxResultBytes);
  }

  /** The request sent; a failure before the answer's head is a transport error (whether the body was sent decides a retry). */
  async #send(body: ReturnType<typeof formBody>, signal: AbortSignal | undefined, timeout: AbortSignal): Promise<Dispatcher.ResponseData> {
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let sent = false;
    try {
      return await undici().request(this.endpoint, {
        method: 'POST',
        headers: {
          [HEADER.licenseId]: this.#licenseId,
          'content-type': body.contentType,
          'content-length': String(body.length),
        },
        body: Readable.from(
          body.stream(() => (sent = true)),
          { objectMode: false },
        ),
        signal: combined,
        ...(this.#dispatcher ? { dispatcher: this.#dispatcher } : {}),
      });
    } catch (error) {
      throw this.#transportError(error, signal, timeout, sent);
    }
  }

  /** A 200's body up to `maxResultBytes` (over it a `BeiaResultError`), an error's up to `MAX_ERROR_BODY`. */
  async #readBody(
    response: Dispatcher.ResponseData,
    creditsHeader: number | undefined,
    signal: AbortSignal | undefined,
    timeout: AbortSignal,
  ): Promise<Uint8Array> {
    const limit = this.#maxResultBytes;
    const refuse = (details: { bytesRead: number; declaredBytes?: number }) =>
      new BeiaResultError({ code: 'result_too_large', limit, ...details, ...(creditsHeader === undefined ? {} : { creditsRemaining: creditsHeader }) });
    try {
      if (response.statusCode !== 200) return await readLimited(response.body, MAX_ERROR_BODY);
      const declared = firstHeader(response, 'content-length');
      if (declared !== undefined && /^\d+$/.test(declared.trim()) && Number(declared) > limit) {
        discard(response.body);
        throw refuse({ bytesRead: 0, declaredBytes: Number(declared) });
      }
      const read = await readBounded(response.body, limit);
      if (read.tooLarge) throw refuse({ bytesRead: read.bytesRead });
      return read.bytes;
    } catch (error) {
      // A 200 refused for its size was charged, and is not a transport failure: thrown as it is.
      if (error instanceof BeiaResultError) throw error;
      // An error answer's status is what matters; a body cut short does not turn a 429 into a network error.
      if (response.statusCode !== 200 && !signal?.aborted && !timeout.aborted) return new Uint8Array();
      throw this.#transportError(error, signal, timeout, true);
    }
  }

  #transportError(error: unknown, signal: AbortSignal | undefined, timeout: AbortSignal, sent: boolean): unknown {
    if (signal?.aborted) return signal.reason;
    const changed = findCause(error, InputChangedError);
    if (changed) return changed;
    if (timeout.aborted) return new BeiaTimeoutError(redactUrl(this.endpoint), this.#timeoutMs, sent);
    return new BeiaNetworkError(redactUrl(this.endpoint), sent, error);
  }
}

/** A header's value, the first when it came more than once. */
function firstHeader(response: Dispatcher.ResponseData, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** A 200's images: a multipart/mixed bundle or one PNG, each checked for a PNG's signature and IHDR. */
function readResult(bytes: Uint8Array, contentType: string, creditsHeader: number | undefined, limit: number): Omit<ProcessResult, 'attempts'> {
  const checkPng = (part: 'result' | 'cropped', image: Uint8Array) => {
    const problem = pngProblem(image);
    if (problem === undefined) return;
    throw new BeiaResultError({
      code: 'invalid_png',
      limit,
      bytesRead: bytes.length,
      part,
      partBytes: image.length,
      problem,
      ...(creditsHeader === undefined ? {} : { creditsRemaining: creditsHeader }),
    });
  };
  if (/^multipart\//i.test(contentType)) {
    const bundle = readImageBundle(decodeMultipartMixed(bytes, contentType));
    checkPng('result', bundle.result);
    if (bundle.cropped) checkPng('cropped', bundle.cropped);
    const result: Omit<ProcessResult, 'attempts'> = { result: bundle.result, creditsRemaining: creditsHeader ?? bundle.credits };
    if (bundle.cropped) result.cropped = bundle.cropped;
    return result;
  }
  if (/^image\/png\b/i.test(contentType) || hasPngSignature(bytes)) {
    checkPng('result', bytes);
    return { result: bytes, creditsRemaining: creditsHeader };
  }
  throw new UnreadableResponseError(
    `Failed to read the answer: a 200 with Content-Type "${contentType || '(none)'}" and ${bytes.length} bytes that are not a PNG. Check that the endpoint is the BEIA image API.`,
  );
}

/** `error` or one of its causes, when it is of `type`. */
function findCause<T>(error: unknown, type: abstract new (...args: never[]) => T): T | undefined {
  for (let current = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    if (current instanceof type) return current;
  }
  return undefined;
}

async function readLimited(body: AsyncIterable<Uint8Array> & { destroy?: () => void }, limit: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= limit) {
      body.destroy?.();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, limit);
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} is ${value}; expected a positive number of milliseconds.`);
  return value;
}

function byteCount(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} is ${value}; expected a whole number of bytes, 1 or more.`);
  return value;
}

function whole(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} is ${value}; expected a whole number, 0 or more.`);
  return value;
}
