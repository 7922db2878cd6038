import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, ClientGoneError } from '../http/api-error.js';
import { parseForm, type FormLimits, type ParsedForm } from './parse-form.js';
import type * as PartCharset from './part-charset.js';
import type { UploadTicket } from './upload-budget.js';

// A charset whose decoding throws: stands for a bug inside a step that busboy's events run.
vi.mock('./part-charset.js', async (importOriginal) => {
  const actual = await importOriginal<typeof PartCharset>();
  return {
    ...actual,
    decodeText: (bytes: Buffer, charset: string | undefined) => {
      if (charset === 'x-explodes') throw new Error('decoder exploded');
      return actual.decodeText(bytes, charset);
    },
  };
});

const BOUNDARY = 'parse-form-unit-7c1d';
const CONTENT_TYPE = `multipart/form-data; boundary=${BOUNDARY}`;
const LIMITS: FormLimits = { maxUploadBytes: 4096, maxFieldBytes: 256, maxParts: 8, requestTimeoutMs: 10_000, minBytesPerSecond: 0, minRateWindowMs: 1000 };

const fieldPart = (name: string, value: string, contentType?: string): Buffer =>
  Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n${contentType ? `Content-Type: ${contentType}\r\n` : ''}\r\n${value}\r\n`);
const fileHead = (name: string): Buffer =>
  Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`);
const END = Buffer.from(`--${BOUNDARY}--\r\n`);

/** A ticket that counts what the parser tells it. */
function countingTicket(): UploadTicket & { added: number; receivedCalls: number } {
  return {
    added: 0,
    receivedCalls: 0,
    add(bytes) {
      this.added += bytes;
    },
    received() {
      this.receivedCalls += 1;
    },
    release() {},
  };
}

/** The promise's outcome once the streams had a few turns of the event loop, or 'pending'. */
async function outcomeSoon(promise: Promise<ParsedForm>): Promise<ParsedForm | Error | 'pending'> {
  let outcome: ParsedForm | Error | 'pending' = 'pending';
  promise.then(
    (form) => (outcome = form),
    (error: Error) => (outcome = error),
  );
  for (let turn = 0; turn < 10; turn += 1) await new Promise((done) => setImmediate(done));
  return outcome;
}

beforeEach(() => {
  // Only the parser's timers are faked: streams and busboy's destroy still run on the real loop.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('parseForm', () => {
  it('reads the fields and the image, charges every byte to the ticket, ends receiving once and leaves no timer', async () => {
    const image = Buffer.alloc(3000, 7);
    const body = Buffer.concat([fieldPart('licenseId', '1234'), fieldPart('apiKey', 'k3y'), fileHead('image'), image, Buffer.from('\r\n'), END]);
    const ticket = countingTicket();
    const stream = new PassThrough();
    const parsing = parseForm(stream, CONTENT_TYPE, { ...LIMITS, minBytesPerSecond: 1 }, new AbortController().signal, ticket, body.length);
    // Several chunks, cut inside the image, so the image is collected across them.
    for (let at = 0; at < body.length; at += 700) stream.write(body.subarray(at, at + 700));
    stream.end();
    const form = await parsing;
    expect(Object.fromEntries(form.fields)).toEqual({ licenseId: '1234', apiKey: 'k3y' });
    expect(form.image?.data.equals(image)).toBe(true);
    expect(form.image?.sha256.equals(createHash('sha256').update(image).digest())).toBe(true);
    expect(form.parts.map((part) => part.name)).toEqual(['licenseId', 'apiKey', 'image']);
    expect(ticket.added).toBe(body.length);
    expect(ticket.receivedCalls).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a client that aborts mid-upload: ClientGoneError, settled once, no timer left', async () => {
    const ticket = countingTicket();
    const stream = new PassThrough();
    const controller = new AbortController();
    const parsing = parseForm(stream, CONTENT_TYPE, { ...LIMITS, minBytesPerSecond: 1 }, controller.signal, ticket);
    stream.write(Buffer.concat([fieldPart('licenseId', '1234'), fileHead('image'), Buffer.alloc(100)]));
    expect(await outcomeSoon(parsing)).toBe('pending');
    controller.abort();
    const outcome = await outcomeSoon(parsing);
    expect(outcome).toBeInstanceOf(ClientGoneError);
    // busboy, destroyed after the failure, fails the open file part too: that second outcome changes nothing.
    expect(ticket.receivedCalls).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a signal aborted before the parse: ClientGoneError at once, the body not read', async () => {
    const ticket = countingTicket();
    const stream = new PassThrough();
    stream.write(fieldPart('licenseId', '1234'));
    const controller = new AbortController();
    controller.abort();
    const outcome = await outcomeSoon(parseForm(stream, CONTENT_TYPE, LIMITS, controller.signal, ticket));
    expect(outcome).toBeInstanceOf(ClientGoneError);
    expect(ticket.added).toBe(0);
    expect(ticket.receivedCalls).toBe(1);
  });

  it('a body closed before its end: ClientGoneError', async () => {
    const stream = new PassThrough();
    const parsing = parseForm(stream, CONTENT_TYPE, LIMITS, new AbortController().signal, countingTicket());
    stream.write(Buffer.concat([fieldPart('licenseId', '1234'), fileHead('image'), Buffer.alloc(100)]));
    stream.destroy();
    const outcome = await outcomeSoon(parsing);
    expect(outcome).toBeInstanceOf(ClientGoneError);
    expect((outcome as Error).message).toBe('client closed the connection during the upload');
  });

  it('a body that fails: ClientGoneError naming the failure', async () => {
    const stream = new PassThrough();
    const parsing = parseForm(stream, CONTENT_TYPE, LIMITS, new AbortController().signal, countingTicket());
    stream.write(fieldPart('licenseId', '1234'));
    stream.destroy(new Error('connection reset by peer'));
    const outcome = await outcomeSoon(parsing);
    expect(outcome).toBeInstanceOf(ClientGoneError);
    expect((outcome as Error).message).toBe('request body failed: connection reset by peer');
  });

  it('a body that stops: 408 after requestTimeoutMs, or at the end of a rate window under minBytesPerSecond', async () => {
    for (const [limits, wait, says] of [
      [LIMITS, LIMITS.requestTimeoutMs, 'did not arrive within 10000 ms'],
      [{ ...LIMITS, minBytesPerSecond: 100 }, LIMITS.minRateWindowMs, 'arrived at 45 bytes/s over the last 1000 ms'],
    ] as const) {
      const ticket = countingTicket();
      const stream = new PassThrough();
      const parsing = parseForm(stream, CONTENT_TYPE, limits, new AbortController().signal, ticket);
      stream.write(fieldPart('licenseId', '1234').subarray(0, 45));
      expect(await outcomeSoon(parsing)).toBe('pending');
      vi.advanceTimersByTime(wait);
      const outcome = await outcomeSoon(parsing);
      expect(outcome).toBeInstanceOf(ApiError);
      expect((outcome as ApiError).code).toBe('request_timeout');
      expect((outcome as Error).message).toContain(says);
      expect(ticket.receivedCalls).toBe(1);
      expect(vi.getTimerCount()).toBe(0);
    }
  });

  it('a throw inside a step is this form failure, not an uncaught exception', async () => {
    const stream = new PassThrough();
    const parsing = parseForm(stream, CONTENT_TYPE, LIMITS, new AbortController().signal, countingTicket());
    stream.end(Buffer.concat([fieldPart('licenseId', '1234', 'text/plain; charset=x-explodes'), END]));
    const outcome = await outcomeSoon(parsing);
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).message).toBe('decoder exploded');
  });
});
