import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { FIELD } from '../../contract/index.js';
import { ApiError, ClientGoneError } from '../http/api-error.js';
import type { JournalPart } from '../store/index.js';
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
  /** sha256 of `data`, computed as it arrived. */
  sha256: Buffer;
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
    let parser: busboy.Busboy;
    try {
      // busboy reports a limit when a value reaches it, not when it passes it: one more, so that a
      // file of exactly maxUploadBytes (a field of maxFieldBytes, a form of maxParts) is accepted.
      parser = busboy({
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
      reject(
        new ApiError(
          'unsupported_content_type',
          `Failed to read the form: ${(error as Error).message}. Send Content-Type: multipart/form-data; boundary=... as your HTTP library builds it.`,
        ),
      );
      return;
    }
    const declaredCharset = takeOverCharsets(parser);

    const fields = new Map<string, string>();
    const parts: JournalPart[] = [];
    let image: UploadedFile | undefined;
    let pendingFiles = 0;
    let parserClosed = false;
    let settled = false;

    const timer = setTimeout(() => {
      finish(
        new ApiError(
          'request_timeout',
          `The request body did not arrive within ${limits.requestTimeoutMs} ms. Check the network, or raise limits.requestTimeoutMs in the mock's config.`,
          {
            Connection: 'close',
          },
        ),
      );
    }, limits.requestTimeoutMs);

    // Like nginx's client_body_timeout, but by rate: a body that trickles in ends long before the
    // overall timeout, so a stuck pipeline cannot hold a place for a minute.
    let receivedBytes = 0;
    let windowStartBytes = 0;
    const rateTimer =
      limits.minBytesPerSecond > 0
        ? setInterval(() => {
            const bytes = receivedBytes - windowStartBytes;
            windowStartBytes = receivedBytes;
            const needed = (limits.minBytesPerSecond * limits.minRateWindowMs) / 1000;
            if (bytes < needed) {
              const rate = Math.round((bytes * 1000) / limits.minRateWindowMs);
              finish(
                new ApiError(
                  'request_timeout',
                  `The request body arrived at ${rate} bytes/s over the last ${limits.minRateWindowMs} ms, under the ${limits.minBytesPerSecond} bytes/s the mock needs (limits.minBytesPerSecond). Check the network, or lower that limit in the mock's config.`,
                  { Connection: 'close' },
                ),
              );
            }
          }, limits.minRateWindowMs)
        : undefined;
    const onBodyData = (chunk: Buffer) => {
      receivedBytes += chunk.length;
      try {
        ticket.add(chunk.length);
      } catch (error) {
        finish(error as Error);
      }
    };

    const finish = (outcome: Error | ParsedForm) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(rateTimer);
      ticket.received();
      body.off('data', onBodyData);
      body.off('error', onBodyError);
      body.off('close', onBodyClose);
      signal.removeEventListener('abort', onAbort);
      if (outcome instanceof Error) {
        body.unpipe(parser);
        parser.removeAllListeners();
        parser.on('error', () => {});
        // busboy may be inside a write that still touches its state: destroy it after that.
        setImmediate(() => parser.destroy());
        reject(outcome);
      } else {
        resolve(outcome);
      }
    };
    const maybeDone = () => {
      if (parserClosed && pendingFiles === 0) finish(image ? { fields, image, parts } : { fields, parts });
    };
    const seen = new Set<string>();
    // busboy gives no name (undefined, despite its types) when Content-Disposition has none.
    const claimName = (name: string | undefined): name is string => {
      if (name === undefined || name === '') {
        finish(new ApiError('malformed_multipart', 'A form part has no name in its Content-Disposition header. Name every part: form-data; name="licenseId".'));
        return false;
      }
      if (seen.has(name)) {
        finish(new ApiError('duplicate_field', `Field "${name}" was sent more than once. Send each form field once.`));
        return false;
      }
      seen.add(name);
      return true;
    };

    // A throw inside busboy's events would escape the stream as an uncaught exception and end the
    // process: turn any into this request's failure (a 500 that names a bug) instead.
    const guarded =
      <A extends unknown[]>(handler: (...args: A) => void) =>
      (...args: A): void => {
        try {
          handler(...args);
        } catch (error) {
          finish(error instanceof Error ? error : new Error(String(error)));
        }
      };

    parser.on(
      'field',
      guarded((name: string | undefined, latin1: string, info: busboy.FieldInfo) => {
        if (settled || !claimName(name)) return;
        if (info.valueTruncated) {
          finish(new ApiError('invalid_field', `Field "${name}" is longer than ${limits.maxFieldBytes} bytes. Send the value alone, without padding.`));
          return;
        }
        // busboy hands over the part's bytes as Latin-1 text: decode them in the charset it declared.
        const charset = declaredCharset();
        const bytes = Buffer.from(latin1, 'latin1');
        const value = decodeText(bytes, charset);
        if (value === undefined) {
          finish(
            new ApiError(
              'invalid_field',
              `Field "${name}" declares charset "${(charset ?? '').slice(0, 40)}" in its Content-Type, which the mock cannot decode. Send text fields in UTF-8: Content-Type: text/plain; charset=utf-8, or no Content-Type at all.`,
            ),
          );
          return;
        }
        fields.set(name, value);
        const part: JournalPart = { name, kind: 'field', size: bytes.length };
        if (!isSecretPartName(name)) {
          part.value = value.slice(0, 64);
          part.sha256 = sha256(bytes);
        }
        parts.push(part);
      }),
    );

    parser.on(
      'file',
      guarded((name: string | undefined, stream: Readable, info: busboy.FileInfo) => {
        stream.on('error', (error: Error) => finish(new ApiError('malformed_multipart', `Failed to read file part "${name ?? ''}": ${error.message}.`)));
        if (settled || !claimName(name)) {
          stream.resume();
          return;
        }
        pendingFiles += 1;
        // Only the image is kept; other file parts are counted and hashed for the journal, then dropped.
        const keep = name === FIELD.image;
        const hash = isSecretPartName(name) ? undefined : createHash('sha256');
        const collect = keep ? collector(contentLength === undefined ? 0 : Math.min(contentLength, limits.maxUploadBytes + 1)) : undefined;
        let size = 0;
        stream.on('data', (chunk: Buffer) => {
          collect?.add(chunk);
          hash?.update(chunk);
          size += chunk.length;
        });
        stream.on('limit', () => {
          finish(
            new ApiError(
              'payload_too_large',
              `File "${name}" is larger than the ${limits.maxUploadBytes}-byte upload limit. Send a smaller image, or raise limits.maxUploadBytes in the mock's config.`,
            ),
          );
        });
        stream.on(
          'end',
          guarded(() => {
            pendingFiles -= 1;
            if (settled) return;
            const part: JournalPart = { name, kind: 'file', size };
            const digest = hash?.digest();
            if (digest) {
              part.contentType = info.mimeType;
              part.sha256 = digest.toString('hex');
              if (info.filename !== undefined) part.filename = info.filename;
            }
            parts.push(part);
            if (collect && digest) {
              image = { contentType: info.mimeType, data: collect.bytes(), sha256: digest };
              if (info.filename !== undefined) image.filename = info.filename;
            }
            maybeDone();
          }),
        );
      }),
    );

    const tooMany = () =>
      finish(new ApiError('too_many_parts', `The form has more than ${limits.maxParts} parts. Send only licenseId, apiKey, image and includeCroppedImage.`));
    parser.on('partsLimit', tooMany);
    parser.on('fieldsLimit', tooMany);
    parser.on('filesLimit', tooMany);
    parser.on('error', (error: Error) =>
      finish(
        new ApiError('malformed_multipart', `Failed to read the form: ${error.message}. The multipart/form-data body is incomplete or malformed (RFC 7578).`),
      ),
    );
    parser.on('close', () => {
      parserClosed = true;
      maybeDone();
    });

    const onBodyError = (error: Error) => finish(new ClientGoneError(`request body failed: ${error.message}`));
    const onBodyClose = () => {
      // 'close' after 'end' is normal; 'close' without it means the client went away.
      if (!body.readableEnded) finish(new ClientGoneError('client closed the connection during the upload'));
    };
    const onAbort = () => finish(new ClientGoneError('client closed the connection during the upload'));
    if (signal.aborted) {
      onAbort();
      return;
    }
    body.on('error', onBodyError);
    body.on('close', onBodyClose);
    body.on('data', onBodyData);
    signal.addEventListener('abort', onAbort, { once: true });
    body.pipe(parser);
  });
}

/**
 * Gathers a file's chunks into one buffer. With a bound known in advance (the request's
 * Content-Length), into one buffer of that size: the memory is only reserved, and pages become
 * resident as bytes are written, so a slow sender holds what it sent, and the upload never exists
 * twice (chunks, then their concatenation) while the old chunks wait for the garbage collector.
 */
function collector(bound: number): { add(chunk: Buffer): void; bytes(): Buffer } {
  let target = bound > 0 ? Buffer.allocUnsafeSlow(bound) : undefined;
  let filled = 0;
  const chunks: Buffer[] = [];
  return {
    add(chunk) {
      if (target && filled + chunk.length <= target.length) {
        chunk.copy(target, filled);
      } else {
        if (target) chunks.push(target.subarray(0, filled));
        target = undefined;
        chunks.push(chunk);
      }
      filled += chunk.length;
    },
    bytes: () => (target ? target.subarray(0, filled) : Buffer.concat(chunks, filled)),
  };
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
