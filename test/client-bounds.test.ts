import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BeiaClient, BeiaError, BeiaResultError, DEFAULT_MAX_RESULT_BYTES, isRetryable, processBatch } from '../src/client/index.js';
import { encodeMultipartMixed } from '../src/contract/index.js';
import { runCli } from './helpers/cli.js';
import { jpeg, png } from './helpers/images.js';

// Issue 18: the client bounds what it reads of a 200 (maxResultBytes) and checks that a result is a PNG.

const MiB = 1024 * 1024;
const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let image: Buffer;
let result: Buffer;
beforeAll(async () => {
  image = await jpeg(40, 30);
  result = await png(40, 30);
});

interface TestServer {
  endpoint: string;
  /** Requests the server has received. */
  requests: () => number;
}

const servers: Array<ReturnType<typeof createServer>> = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A real server on 127.0.0.1, port 0, that reads the whole upload and then answers with `answer`. */
async function serve(answer: (res: ServerResponse, req: IncomingMessage) => void): Promise<TestServer> {
  let requests = 0;
  const server = createServer((req, res) => {
    requests += 1;
    req.resume();
    req.on('end', () => answer(res, req));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}/beia-api/v1/image`, requests: () => requests };
}

/** Answers `body` in one piece with a Content-Length, or in two chunks without one. */
function answerWith(body: Uint8Array, headers: Record<string, string>, framing: 'content-length' | 'chunked' = 'content-length') {
  return (res: ServerResponse) => {
    if (framing === 'content-length') {
      res.writeHead(200, { ...headers, 'content-length': String(body.length) }).end(body);
      return;
    }
    res.writeHead(200, headers);
    const half = Math.floor(body.length / 2);
    res.write(body.subarray(0, half));
    setTimeout(() => res.end(body.subarray(half)), 10);
  };
}

function clientFor(endpoint: string, options: Partial<ConstructorParameters<typeof BeiaClient>[0]> = {}) {
  return new BeiaClient({ endpoint, licenseId: '1234', apiKey: '5678', retryBaseDelayMs: 10, retries: 3, timeoutMs: 10_000, ...options });
}

/** The signature and an IHDR chunk with these fields (the CRC is not checked). */
function pngHead(fields: { length?: number; type?: string; width?: number; height?: number } = {}): Buffer {
  const chunk = Buffer.alloc(25);
  chunk.writeUInt32BE(fields.length ?? 13, 0);
  chunk.write(fields.type ?? 'IHDR', 4, 'latin1');
  chunk.writeUInt32BE(fields.width ?? 40, 8);
  chunk.writeUInt32BE(fields.height ?? 30, 12);
  chunk.writeUInt8(8, 16);
  chunk.writeUInt8(2, 17);
  return Buffer.concat([SIGNATURE, chunk]);
}

function mixed(parts: Array<[name: string, type: string, body: Uint8Array]>) {
  return encodeMultipartMixed(
    parts.map(([name, type, body]) => ({
      headers: [
        ['Content-Disposition', `inline; name="${name}"`],
        ['Content-Type', type],
      ],
      body,
    })),
  );
}

describe('maxResultBytes: what the client reads of a 200', () => {
  it('defaults to 64 MiB and must be a whole number of bytes', () => {
    expect(DEFAULT_MAX_RESULT_BYTES).toBe(64 * MiB);
    expect(() => clientFor('http://127.0.0.1:1/', { maxResultBytes: 0 })).toThrow(RangeError);
    expect(() => clientFor('http://127.0.0.1:1/', { maxResultBytes: 1.5 })).toThrow('maxResultBytes is 1.5');
  });

  it('an endless image/png answer: reading stops just past the limit, the connection is closed, nothing is retried', async () => {
    const cap = 16 * MiB; // the server gives up here, so the test ends even if the client never stops reading
    const chunk = Buffer.alloc(64 * 1024);
    pngHead().copy(chunk);
    let written = 0;
    let closedEarly: Promise<boolean> = Promise.resolve(false);
    const server = await serve((res) => {
      closedEarly = new Promise((resolve) => res.on('close', () => resolve(!res.writableFinished)));
      res.writeHead(200, { 'content-type': 'image/png', 'credits-remaining': '41' });
      const pump = () => {
        while (!res.destroyed && written < cap) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end();
      };
      pump();
    });

    // A result, if the client took one, is shown by its size: printing megabytes would take minutes.
    const error = await clientFor(server.endpoint, { maxResultBytes: MiB })
      .process(image)
      .then(
        ({ result }) => ({ resultBytes: result.length }),
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(BeiaResultError);
    expect(error).toBeInstanceOf(BeiaError);
    expect(error).toMatchObject({ name: 'BeiaResultError', code: 'result_too_large', limit: MiB, declaredBytes: undefined, creditsRemaining: 41 });
    const { bytesRead } = error as BeiaResultError;
    // Past the limit by at most one chunk as the socket delivered it.
    expect(bytesRead).toBeGreaterThan(MiB);
    expect(bytesRead).toBeLessThanOrEqual(MiB + 256 * 1024);
    expect((error as Error).message).toMatch(
      /^Failed to read the result: the answer passed maxResultBytes \(1048576\) and reading stopped at \d+ bytes\. The image was processed and charged/,
    );
    expect(await closedEarly).toBe(true);
    expect(written).toBeLessThan(cap);
    expect(server.requests()).toBe(1);
    expect(isRetryable(error)).toBe(false);
  });

  it('a Content-Length over the limit is refused at once, before reading, and the connection is closed', async () => {
    let closed: Promise<void> = Promise.resolve();
    const server = await serve((res) => {
      closed = new Promise((resolve) => res.on('close', () => resolve()));
      // Says 2 GiB, sends the head of a PNG, then waits: only the Content-Length can refuse it in time.
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(2 * 1024 * MiB) });
      res.write(pngHead());
    });
    const started = Date.now();
    const error = await clientFor(server.endpoint, { maxResultBytes: MiB, timeoutMs: 8_000 })
      .process(image)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BeiaResultError);
    expect(error).toMatchObject({ code: 'result_too_large', limit: MiB, bytesRead: 0, declaredBytes: 2 * 1024 * MiB });
    expect((error as Error).message).toContain('its Content-Length is 2147483648 bytes, over maxResultBytes (1048576), so none of it was read');
    // Refused and closed at once, not when timeoutMs ends the attempt.
    await closed;
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(server.requests()).toBe(1);
  });

  it.each(['content-length', 'chunked'] as const)('a valid PNG exactly at the limit is accepted, one byte over is refused (%s)', async (framing) => {
    const server = await serve(answerWith(result, { 'content-type': 'image/png', 'credits-remaining': '7' }, framing));
    const ok = await clientFor(server.endpoint, { maxResultBytes: result.length }).process(image);
    expect(Buffer.from(ok.result)).toEqual(result);
    expect(ok.creditsRemaining).toBe(7);
    const over = await clientFor(server.endpoint, { maxResultBytes: result.length - 1 })
      .process(image)
      .catch((e: unknown) => e);
    expect(over).toMatchObject({ code: 'result_too_large', limit: result.length - 1 });
    expect(over).toMatchObject(framing === 'chunked' ? { bytesRead: result.length } : { declaredBytes: result.length, bytesRead: 0 });
    expect(server.requests()).toBe(2);
  });

  it('a multipart/mixed answer exactly at the limit is accepted, one byte over is refused', async () => {
    const cropped = await png(20, 15);
    const { contentType, body } = mixed([
      ['result', 'image/png', result],
      ['cropped', 'image/png', cropped],
      ['credits', 'text/plain', Buffer.from('41')],
    ]);
    const server = await serve(answerWith(body, { 'content-type': contentType }, 'chunked'));
    const ok = await clientFor(server.endpoint, { maxResultBytes: body.length }).process(image, { includeCroppedImage: true });
    expect(Buffer.from(ok.cropped!)).toEqual(cropped);
    expect(ok.creditsRemaining).toBe(41);
    await expect(clientFor(server.endpoint, { maxResultBytes: body.length - 1 }).process(image, { includeCroppedImage: true })).rejects.toMatchObject({
      code: 'result_too_large',
      bytesRead: body.length,
    });
  });
});

describe('the result must be a PNG: signature, then an IHDR chunk', () => {
  it('a bare 8-byte PNG signature is an invalid_png, not a result, and is not retried', async () => {
    const server = await serve(answerWith(SIGNATURE, { 'content-type': 'image/png', 'credits-remaining': '41' }));
    const error = await clientFor(server.endpoint)
      .process(image)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BeiaResultError);
    expect(error).toMatchObject({ name: 'BeiaResultError', code: 'invalid_png', part: 'result', bytesRead: 8, creditsRemaining: 41 });
    expect((error as Error).message).toBe(
      'Failed to read the result: its 8 bytes are not a PNG (it ends after the PNG signature, with no IHDR chunk). The image was processed and charged (a 200 was answered), so it is not sent again; check that the endpoint is the BEIA image API, and report the answer to BEIA if it is.',
    );
    expect(server.requests()).toBe(1);
  });

  it.each([
    ['a width of 0', pngHead({ width: 0 }), 'its IHDR gives a size of 0x30'],
    ['a height over 2^31-1', pngHead({ height: 0x80000000 }), 'its IHDR gives a size of 40x2147483648'],
    ['an IDAT first', pngHead({ type: 'IDAT' }), 'its first chunk is "IDAT" of length 13, not IHDR of length 13'],
    ['an IHDR of length 12', pngHead({ length: 12 }), 'its first chunk is "IHDR" of length 12, not IHDR of length 13'],
    ['an IHDR cut short', pngHead().subarray(0, 20), 'it ends 12 bytes after the PNG signature, inside the IHDR chunk'],
    ['a JPEG labelled image/png', null, 'it does not start with the PNG signature'],
  ])('%s is an invalid_png', async (_, body, problem) => {
    const server = await serve(answerWith(body ?? image, { 'content-type': 'image/png' }));
    const error = await clientFor(server.endpoint)
      .process(image)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_png', part: 'result' });
    expect((error as Error).message).toContain(`(${problem})`);
    expect(server.requests()).toBe(1);
  });

  it('a head that passes the check is accepted: it is structural, not a decode', async () => {
    const server = await serve(answerWith(pngHead(), {}));
    expect((await clientFor(server.endpoint).process(image)).result).toHaveLength(33);
  });

  it.each(['cropped', 'result'] as const)('a multipart/mixed answer whose %s part is not a PNG is an invalid_png naming that part', async (bad) => {
    const notPng = Buffer.from('<html>not an image</html>');
    const { contentType, body } = mixed([
      ['result', 'image/png', bad === 'result' ? notPng : result],
      ['cropped', 'image/png', bad === 'cropped' ? notPng : result],
      ['credits', 'text/plain', Buffer.from('41')],
    ]);
    const server = await serve(answerWith(body, { 'content-type': contentType }));
    const error = await clientFor(server.endpoint)
      .process(image, { includeCroppedImage: true })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BeiaResultError);
    expect(error).toMatchObject({ code: 'invalid_png', part: bad, bytesRead: body.length });
    expect((error as Error).message).toMatch(
      new RegExp(`^Failed to read the ${bad === 'cropped' ? 'cropped image' : 'result'}: its ${notPng.length} bytes are not a PNG \\(it does not start`),
    );
    expect(server.requests()).toBe(1);
  });
});

describe('a refused result in a batch and in beia process', () => {
  it('processBatch reports it as a failed image, keeps going, and takes its credits', async () => {
    let n = 0;
    const server = await serve((res) =>
      (n++ === 0
        ? answerWith(SIGNATURE, { 'content-type': 'image/png', 'credits-remaining': '41' })
        : answerWith(result, { 'content-type': 'image/png', 'credits-remaining': '40' }))(res),
    );
    const items = [
      { id: 'a', input: image },
      { id: 'b', input: image },
    ];
    const summary = await processBatch(clientFor(server.endpoint, { maxConcurrent: 1 }), items, { concurrency: 1 });
    expect(summary.failed.map((f) => [f.id, (f.error as BeiaResultError).code])).toEqual([['a', 'invalid_png']]);
    expect(summary.processed).toEqual(['b']);
    expect(summary.stoppedBy).toBeUndefined();
    expect(summary.creditsRemaining).toBe(40);
    expect(server.requests()).toBe(2);
  });

  it('beia process prints the message as a failed image, writes no output, and exits 1', async () => {
    const server = await serve(answerWith(SIGNATURE, { 'content-type': 'image/png', 'credits-remaining': '41' }));
    const input = join(await mkdtemp(join(tmpdir(), 'beia-in-')), 'photo.jpg');
    await writeFile(input, image);
    const out = await mkdtemp(join(tmpdir(), 'beia-out-'));
    const run = await runCli(['process', input, '--out', out], { BEIA_ENDPOINT: server.endpoint, BEIA_LICENSE_ID: '1234', BEIA_API_KEY: '5678' });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`fail  ${input}: Failed to read the result: its 8 bytes are not a PNG (it ends after the PNG signature, with no IHDR chunk).`);
    expect(run.stdout).toContain('processed 0, skipped 0 (already done), failed 1 (invalid_png 1), credits left 41');
    expect(run.stderr).toBe('');
    expect((await readdir(out)).filter((name) => !name.startsWith('.'))).toEqual([]);
    expect(server.requests()).toBe(1);
  });
});
