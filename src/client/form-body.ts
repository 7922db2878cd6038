import { randomBytes } from 'node:crypto';
import { FIELD } from '../contract/index.js';
import { InputChangedError } from './errors.js';
import type { ImageSource } from './image-source.js';

/** A multipart/form-data body of known length that can be streamed again for each attempt. */
export interface FormBody {
  contentType: string;
  length: number;
  /** A fresh stream of the body; `onSent` runs once its last byte has been handed over. */
  stream(onSent: () => void): AsyncIterable<Uint8Array>;
}

/**
 * The vendor's request as multipart/form-data (RFC 7578): `licenseId`, `apiKey`, optionally
 * `includeCroppedImage`, then `image` as `application/octet-stream` with a filename, as the
 * vendor's samples send it (D9). Built by hand so a file streams from disk with a
 * Content-Length, and the body can be sent again on a retry.
 */
export function formBody(fields: { licenseId: string; apiKey: string; includeCroppedImage: boolean }, image: ImageSource): FormBody {
  const boundary = `----beia-kit-${randomBytes(12).toString('hex')}`;
  const text = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  let head = text(FIELD.licenseId, fields.licenseId) + text(FIELD.apiKey, fields.apiKey);
  if (fields.includeCroppedImage) head += text(FIELD.includeCroppedImage, 'true');
  head += `--${boundary}\r\nContent-Disposition: form-data; name="${FIELD.image}"; filename="${quoted(image.filename)}"\r\nContent-Type: application/octet-stream\r\n\r\n`;
  const before = Buffer.from(head, 'utf8');
  const after = Buffer.from(`\r\n--${boundary}--\r\n`);
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    length: before.length + image.size + after.length,
    async *stream(onSent) {
      yield before;
      let read = 0;
      for await (const chunk of image.open()) {
        read += chunk.byteLength;
        // Never send more than announced; a short or long file is a local failure, not a charge.
        if (read > image.size) throw new InputChangedError(image.filename, image.size, read);
        yield chunk;
      }
      if (read !== image.size) throw new InputChangedError(image.filename, image.size, read);
      yield after;
      onSent();
    },
  };
}

/** A filename safe inside a quoted header parameter (RFC 7578 section 4.2): no quotes, no line breaks. */
function quoted(filename: string): string {
  return filename.replace(/["\r\n\\]/g, '_');
}
