import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { FIELD } from '../../contract/index.js';
import { ApiError, ClientGoneError } from '../http/api-error.js';
import type { JournalPart } from '../store/index.js';
import { FilePart } from './file-part.js';
import { decodeText, takeOverCharsets } from './part-charset.js';
import type { UploadTicket } from './upload-budget.js';

export interface FormLimits {
  /** Largest image file; exactly this many bytes is accepted. */
  maxUploadBytes: number;
  /** Largest text field; exactly this many bytes is accepted. */
  maxFieldBytes: number;
  /** Most parts; exactly this many is accepted. */
  maxParts: number;
  /** The whole body must arrive within this time (slow senders). */
  requestTimeoutMs: number;
  /** The body must progress by at least this much per second, averaged over each window; 0: no check. */
  minBytesPerSecond: number;
  /** The window of that average, and the grace before the first check. */
  minRateWindowMs: number;
}

export interface UploadedFile {
  filename?: string;
  contentType: string;
  data: Buffer;
  /** sha256 of `data`: computed when first read, or set by whoever already knows it (the same bytes seen before). */
  sha256: Buffer;
}

/** The image part, kept: its sha256 computed once, when first read, unless it was set before. */
class KeptUpload implements UploadedFile {
  readonly contentType: string;
  readonly data: Buffer;
  filename?: string;
  #sha256: Buffer | undefined;

  constructor(contentType: string, data: Buffer, filename: string | undefined) {
    this.contentType = contentType;
    this.data = data;
    if (filename !== undefined) this.filename = filename;
  }

  get sha256(): Buffer {
    return (this.#sha256 ??= createHash('sha256').update(this.data).digest());
  }

  set sha256(known: Buffer) {
    this.#sha256 = known;
  }
}

export interface ParsedForm {
  /** Text fields by name; each name at most once. */
  fields: Map<string, string>;
  /** The `image` part, when it was sent as a file. */
  image?: UploadedFile;
  /** Every part, in order, as the journal records it. */
  parts: JournalPart[];
}

const SECRET_NAME = FIELD.apiKey.toLowerCase();

/**
 * Parts whose content never reaches the journal or the log, field or file: not even a hash. By
 * meaning, not spelling: a name that reads `apikey` once lower-cased without whitespace, `-`, `_`
 * and `.` (`apiKey`, `api_key`, `API-KEY`, ` apiKey`, `API.KEY`). Only the real `apiKey` field is
 * the credential; the others are masked because a client that misnames the key still sends it.
 */
function isSecretPartName(name: string): boolean {
  return name.toLowerCase().replace(/[\s._-]/g, '') === SECRET_NAME;
}

/**
 * Streams a multipart/form-data body (RFC 7578) through busboy. Each bad input becomes an
 * {@link ApiError} with its catalogue code; a client that goes away becomes a
 * {@link ClientGoneError}. The promise always settles, even when the client aborts mid-upload,
 * because the body's `error`/`close` and the `signal` are listened to as well as busboy's own
 * events. On failure the rest of the body is not read; the HTTP layer drains or drops it.
 *
 * @example
 * ```ts
 * const form = await parseForm(incoming, incoming.headers['content-type'], limits, signal);
 * form.fields.get('licenseId');
 * ```
 */
export function parseForm(
  body: Readable,
  contentType: string,
  limits: FormLimits,
  signal: AbortSignal,
  ticket: UploadTicket,
  contentLength?: number,
): Promise<ParsedForm> {
  return new Promise<ParsedForm>((resolve, reject) => {
    // A Content-Type busboy cannot read (or a busboy the charset hook does not fit) throws here,
    // before any timer or listener exists: the promise rejects with it.
    const reader = new FormReader(openParser(contentType, limits), { body, limits, signal, ticket, contentLength }, resolve, reject);
    reader.start();
  });
}

/** Busboy for this Content-Type, or the 400 that says how to send one it reads. */
function openParser(contentType: string, limits: FormLimits): busboy.Busboy {
  try {
    // busboy reports a limit when a value reaches it, not when it passes it: one more, so that a
    // file of exactly maxUploadBytes (a field of maxFieldBytes, a form of maxParts) is accepted.
    return busboy({
      headers: { 'content-type': contentType },
      // Text parts come out as their bytes, as Latin-1 text; the mock decodes them (part-charset.ts).
      defCharset: 'latin1',
      limits: {
        fileSize: limits.maxUploadBytes + 1,
        fieldSize: limits.maxFieldBytes + 1,
        parts: limits.maxParts + 1,
        fields: limits.maxParts + 1,
        files: limits.maxParts + 1,
      },
    });
  } catch (error) {
    throw new ApiError(
      'unsupported_content_type',
      `Failed to read the form: ${(error as Error).message}. Send Content-Type: multipart/form-data; boundary=... as your HTTP library builds it.`,
    );
  }
}

interface FormInput {
  body: Readable;
  limits: FormLimits;
  signal: AbortSignal;
  ticket: UploadTicket;
  contentLength: number | undefined;
}

/**
 * One form being read. Its steps, in the order a request meets them: `start` (timers, listeners,
 * the body piped into busboy), then one step per event (a field, a file and its end, the body's
 * bytes, busboy's close, a limit, an error, the client leaving, a timer), and `#finish`, the one
 * place that settles the promise, exactly once, and removes every timer and listener.
 *
 * The listeners are bound once per form, as fields: nothing is allocated per chunk.
 */
class FormReader {
  readonly #parser: busboy.Busboy;
  readonly #declaredCharset: () => string | undefined;
  readonly #body: Readable;
  readonly #limits: FormLimits;
  readonly #signal: AbortSignal;
  readonly #ticket: UploadTicket;
  readonly #contentLength: number | undefined;
  readonly #resolve: (form: ParsedForm) => void;
  readonly #reject: (error: Error) => void;

  readonly #fields = new Map<string, string>();
  readonly #parts: JournalPart[] = [];
  readonly #seen = new Set<string>();
  #image: UploadedFile | undefined;
  #pendingFiles = 0;
  #parserClosed = false;
  #settled = false;
  #timer: NodeJS.Timeout | undefined;
  #rateTimer: NodeJS.Timeout | undefined;
  #receivedBytes = 0;
  #windowStartBytes = 0;

  constructor(parser: busboy.Busboy, input: FormInput, resolve: (form: ParsedForm) => void, reject: (error: Error) => void) {
    this.#parser = parser;
    this.#declaredCharset = takeOverCharsets(parser);
    this.#body = input.body;
    this.#limits = input.limits;
    this.#signal = input.signal;
    this.#ticket = input.ticket;
    this.#contentLength = input.contentLength;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  // ── start ─────────────────────────────────────────────────────────────────────────────────────

  /** Arms the timers, listens to busboy, the body and the signal, and pipes the body into busboy. */
  start(): void {
    const limits = this.#limits;
    this.#timer = setTimeout(this.#onTimeout, limits.requestTimeoutMs);
    // Like nginx's client_body_timeout, but by rate: a body that trickles in ends long before the
    // overall timeout, so a stuck pipeline cannot hold a place for a minute.
    if (limits.minBytesPerSecond > 0) this.#rateTimer = setInterval(this.#onRateWindow, limits.minRateWindowMs);

    const parser = this.#parser;
    parser.on(
      'field',
      this.#guarded((name: string | undefined, latin1: string, info: busboy.FieldInfo) => this.#field(name, latin1, info)),
    );
    parser.on(
      'file',
      this.#guarded((name: string | undefined, stream: Readable, info: busboy.FileInfo) => this.#file(name, stream, info)),
    );
    parser.on('partsLimit', this.#onTooManyParts);
    parser.on('fieldsLimit', this.#onTooManyParts);
    parser.on('filesLimit', this.#onTooManyParts);
    parser.on('error', this.#onParserError);
    parser.on('close', this.#onParserClose);

    if (this.#signal.aborted) {
      this.#onAbort();
      return;
    }
    // busboy never ends when the client aborts: the body's error and close, and the signal, say so.
    this.#body.on('error', this.#onBodyError);
    this.#body.on('close', this.#onBodyClose);
    this.#body.on('data', this.#onBodyData);
    this.#signal.addEventListener('abort', this.#onAbort, { once: true });
    this.#body.pipe(parser);
  }

  /**
   * A throw inside busboy's events would escape the stream as an uncaught exception and end the
   * process: turn any into this form's failure (a 500 that names a bug) instead.
   */
  #guarded<A extends unknown[]>(handler: (...args: A) => void): (...args: A) => void {
    return (...args: A): void => {
      try {
        handler(...args);
      } catch (error) {
        this.#finish(error instanceof Error ? error : new Error(String(error)));
      }
    };
  }

  // ── on a field ────────────────────────────────────────────────────────────────────────────────

  /** A text part: decoded in the charset it declared, kept by name, journaled (masked when secret). */
  #field(name: string | undefined, latin1: string, info: busboy.FieldInfo): void {
    if (this.#settled || !this.#claimName(name)) return;
    if (info.valueTruncated) {
      this.#finish(new ApiError('invalid_field', `Field "${name}" is longer than ${this.#limits.maxFieldBytes} bytes. Send the value alone, without padding.`));
      return;
    }
    // busboy hands over the part's bytes as Latin-1 text: decode them in the charset it declared.
    const charset = this.#declaredCharset();
    const bytes = Buffer.from(latin1, 'latin1');
    const value = decodeText(bytes, charset);
    if (value === undefined) {
      this.#finish(
        new ApiError(
          'invalid_field',
          `Field "${name}" declares charset "${(charset ?? '').slice(0, 40)}" in its Content-Type, which the mock cannot decode. Send text fields in UTF-8: Content-Type: text/plain; charset=utf-8, or no Content-Type at all.`,
        ),
      );
      return;
    }
    this.#fields.set(name, value);
    const part: JournalPart = { name, kind: 'field', size: bytes.length };
    if (!isSecretPartName(name)) {
      part.value = value.slice(0, 64);
      part.sha256 = sha256(bytes);
    }
    this.#parts.push(part);
  }

  /** Each part has a name, and each name comes once; busboy gives undefined (despite its types) for none. */
  #claimName(name: string | undefined): name is string {
    if (name === undefined || name === '') {
      this.#finish(
        new ApiError('malformed_multipart', 'A form part has no name in its Content-Disposition header. Name every part: form-data; name="licenseId".'),
      );
      return false;
    }
    if (this.#seen.has(name)) {
      this.#finish(new ApiError('duplicate_field', `Field "${name}" was sent more than once. Send each form field once.`));
      return false;
    }
    this.#seen.add(name);
    return true;
  }

  // ── on a file ─────────────────────────────────────────────────────────────────────────────────

  /** A file part: counted and hashed as it streams; only the image's bytes are kept, the others dropped. */
  #file(name: string | undefined, stream: Readable, info: busboy.FileInfo): void {
    stream.on('error', (error: Error) => this.#finish(new ApiError('malformed_multipart', `Failed to read file part "${name ?? ''}": ${error.message}.`)));
    if (this.#settled || !this.#claimName(name)) {
      stream.resume();
      return;
    }
    this.#pendingFiles += 1;
    const keepBound = name !== FIELD.image ? undefined : this.#contentLength === undefined ? 0 : Math.min(this.#contentLength, this.#limits.maxUploadBytes + 1);
    // The image is kept and hashed only when its sha256 is asked for; the other parts as they stream.
    const file = new FilePart(!isSecretPartName(name) && keepBound === undefined, keepBound);
    stream.on('data', file.add);
    stream.on('limit', () =>
      this.#finish(
        new ApiError(
          'payload_too_large',
          `File "${name}" is larger than the ${this.#limits.maxUploadBytes}-byte upload limit. Send a smaller image, or raise limits.maxUploadBytes in the mock's config.`,
        ),
      ),
    );
    stream.on(
      'end',
      this.#guarded(() => this.#fileEnd(name, info, file)),
    );
  }

  /** A file part's end: its journal part, and the image when it is the part kept. */
  #fileEnd(name: string, info: busboy.FileInfo, file: FilePart): void {
    this.#pendingFiles -= 1;
    if (this.#settled) return;
    const part: JournalPart = { name, kind: 'file', size: file.size };
    const data = file.bytes();
    if (!isSecretPartName(name)) {
      part.contentType = info.mimeType;
      if (data) {
        // The image: its sha256 is computed when first asked for, unless the renderer recognises
        // the bytes first (`KnownUploads`); the journal part reads it from the image.
        const image = new KeptUpload(info.mimeType, data, info.filename);
        Object.defineProperty(part, 'sha256', { enumerable: true, configurable: true, get: () => image.sha256.toString('hex') });
        this.#image = image;
      } else part.sha256 = file.digest()?.toString('hex');
      if (info.filename !== undefined) part.filename = info.filename;
    }
    this.#parts.push(part);
    this.#maybeDone();
  }

  // ── on the body's end, a limit, an error, the client leaving, a timer ─────────────────────────

  /** Every byte of the body: counted for the rate, and held against the upload budget (a 429 when full). */
  readonly #onBodyData = (chunk: Buffer): void => {
    this.#receivedBytes += chunk.length;
    try {
      this.#ticket.add(chunk.length);
    } catch (error) {
      this.#finish(error as Error);
    }
  };

  readonly #onParserClose = (): void => {
    this.#parserClosed = true;
    this.#maybeDone();
  };

  /** The form is complete once busboy closed and every file part ended. */
  #maybeDone(): void {
    if (!this.#parserClosed || this.#pendingFiles !== 0) return;
    const fields = this.#fields;
    const parts = this.#parts;
    const image = this.#image;
    this.#finish(image ? { fields, image, parts } : { fields, parts });
  }

  readonly #onTooManyParts = (): void =>
    this.#finish(
      new ApiError('too_many_parts', `The form has more than ${this.#limits.maxParts} parts. Send only licenseId, apiKey, image and includeCroppedImage.`),
    );

  readonly #onParserError = (error: Error): void =>
    this.#finish(
      new ApiError('malformed_multipart', `Failed to read the form: ${error.message}. The multipart/form-data body is incomplete or malformed (RFC 7578).`),
    );

  readonly #onBodyError = (error: Error): void => this.#finish(new ClientGoneError(`request body failed: ${error.message}`));

  readonly #onBodyClose = (): void => {
    // 'close' after 'end' is normal; 'close' without it means the client went away.
    if (!this.#body.readableEnded) this.#finish(new ClientGoneError('client closed the connection during the upload'));
  };

  readonly #onAbort = (): void => this.#finish(new ClientGoneError('client closed the connection during the upload'));

  readonly #onTimeout = (): void =>
    this.#finish(
      new ApiError(
        'request_timeout',
        `The request body did not arrive within ${this.#limits.requestTimeoutMs} ms. Check the network, or raise limits.requestTimeoutMs in the mock's config.`,
        { Connection: 'close' },
      ),
    );

  /** At the end of each rate window: the bytes of that window, against the minimum rate. */
  readonly #onRateWindow = (): void => {
    const limits = this.#limits;
    const bytes = this.#receivedBytes - this.#windowStartBytes;
    this.#windowStartBytes = this.#receivedBytes;
    const needed = (limits.minBytesPerSecond * limits.minRateWindowMs) / 1000;
    if (bytes >= needed) return;
    const rate = Math.round((bytes * 1000) / limits.minRateWindowMs);
    this.#finish(
      new ApiError(
        'request_timeout',
        `The request body arrived at ${rate} bytes/s over the last ${limits.minRateWindowMs} ms, under the ${limits.minBytesPerSecond} bytes/s the mock needs (limits.minBytesPerSecond). Check the network, or lower that limit in the mock's config.`,
        { Connection: 'close' },
      ),
    );
  };

  // ── finish ────────────────────────────────────────────────────────────────────────────────────

  /**
   * Settles the form, once: later outcomes are ignored. Clears both timers, ends the upload's
   * receiving in the budget, removes the listeners on the body and the signal; on failure also
   * detaches busboy and destroys it, so the rest of the body is not read.
   */
  #finish(outcome: Error | ParsedForm): void {
    if (this.#settled) return;
    this.#settled = true;
    clearTimeout(this.#timer);
    clearInterval(this.#rateTimer);
    this.#ticket.received();
    this.#body.off('data', this.#onBodyData);
    this.#body.off('error', this.#onBodyError);
    this.#body.off('close', this.#onBodyClose);
    this.#signal.removeEventListener('abort', this.#onAbort);
    if (!(outcome instanceof Error)) {
      this.#resolve(outcome);
      return;
    }
    const parser = this.#parser;
    this.#body.unpipe(parser);
    parser.removeAllListeners();
    parser.on('error', () => {});
    // busboy may be inside a write that still touches its state: destroy it after that.
    setImmediate(() => parser.destroy());
    this.#reject(outcome);
  }
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
