import { request } from 'node:http';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MOCK_VERSION, type RunningMockServer } from '../src/mock/index.js';
import { errorCode, inProcessMock } from './helpers/app.js';
import { imageForm, rawForm } from './helpers/forms.js';
import { jpeg, truncatedJpeg } from './helpers/images.js';
import { startTestMock } from './helpers/server.js';

interface CacheStats {
  entries: number;
  bytes: number;
  maxBytes: number;
  hits: number;
  misses: number;
}

type Mock = ReturnType<typeof inProcessMock>;

async function cacheOf(mock: Mock): Promise<CacheStats> {
  return ((await (await mock.admin('GET', '/health')).json()) as { cache: CacheStats }).cache;
}

/** Status, every header but Date, and the body bytes. */
async function answer(res: Response) {
  const headers = Object.fromEntries([...res.headers].filter(([name]) => name !== 'date'));
  return { status: res.status, headers, body: Buffer.from(await res.arrayBuffer()) };
}

let image: Buffer;
beforeAll(async () => {
  image = await jpeg(320, 200, [90, 40, 160]);
});

describe('the result cache (images.cacheBytes)', () => {
  it('keys by the content: two different images of the same size get their own results', async () => {
    const mock = inProcessMock();
    const red = await jpeg(320, 200, [200, 30, 30]);
    const blue = await jpeg(320, 200, [30, 30, 200]);
    const first = Buffer.from(await (await mock.postImage({ image: red })).arrayBuffer());
    const second = Buffer.from(await (await mock.postImage({ image: blue })).arrayBuffer());
    expect(second.equals(first)).toBe(false);
    expect(await cacheOf(mock)).toMatchObject({ hits: 0, misses: 2 });
    // The same content again is the hit, with the same bytes as its own miss.
    expect(Buffer.from(await (await mock.postImage({ image: blue })).arrayBuffer()).equals(second)).toBe(true);
    expect(await cacheOf(mock)).toMatchObject({ hits: 1, misses: 2 });
  });

  it.each([
    ['a PNG', undefined],
    ['multipart/mixed', 'true'],
  ])('a hit gives the same bytes and headers as a miss for %s, and each spends one credit', async (_kind, includeCroppedImage) => {
    const mock = inProcessMock({ licenses: [{ licenseId: '1234', apiKey: '5678', credits: 10 }] });
    const fields = includeCroppedImage ? { image, includeCroppedImage } : { image };

    const miss = await answer(await mock.postImage(fields));
    expect(miss.status).toBe(200);
    expect(await mock.credits()).toBe(9);
    expect(await cacheOf(mock)).toMatchObject({ entries: 1, hits: 0, misses: 1 });

    // The same credits as before the first call, so the answer may be byte for byte the same.
    expect((await mock.admin('PATCH', '/licenses/1234', { credits: 10 })).status).toBe(200);
    const hit = await answer(await mock.postImage(fields));
    expect(await cacheOf(mock)).toMatchObject({ entries: 1, hits: 1, misses: 1 });
    expect(await mock.credits()).toBe(9);
    expect(hit.headers).toEqual(miss.headers);
    expect(hit.body.equals(miss.body)).toBe(true);

    // And a mock without a cache renders the same bytes.
    const uncached = inProcessMock({ licenses: [{ licenseId: '1234', apiKey: '5678', credits: 10 }], images: { cacheBytes: 0 } });
    const fresh = await answer(await uncached.postImage(fields));
    expect(fresh.body.equals(miss.body)).toBe(true);
    expect(await cacheOf(uncached)).toMatchObject({ entries: 0, maxBytes: 0 });
  });

  it('runs every check before a hit: no credits is a 402, a wrong key a 401', async () => {
    const mock = inProcessMock({
      licenses: [
        { licenseId: '1234', apiKey: '5678', credits: 5 },
        { licenseId: 'empty', apiKey: 'k', credits: 0 },
      ],
    });
    expect((await mock.postImage({ image })).status).toBe(200);

    const broke = await mock.postImage({ image, licenseId: 'empty', apiKey: 'k' }, { headers: { 'License-Id': 'empty' } });
    expect(broke.status).toBe(402);
    expect(await errorCode(broke)).toBe('no_credits');
    const wrongKey = await mock.postImage({ image, apiKey: 'nope' });
    expect(wrongKey.status).toBe(401);
    expect(await mock.credits('empty')).toBe(0);
    expect(await mock.credits()).toBe(4);
    expect((await cacheOf(mock)).hits).toBe(0);
  });

  it('leaves a damaged file a 415, and does not keep it', async () => {
    const mock = inProcessMock();
    const broken = await truncatedJpeg();
    for (let i = 0; i < 2; i++) {
      const res = await mock.postImage({ image: broken });
      expect(res.status).toBe(415);
    }
    expect(await cacheOf(mock)).toMatchObject({ entries: 0, hits: 0 });
    expect(await mock.credits()).toBe(100);
  });

  it('keeps the crop once asked for, and serves both kinds of answer from one entry', async () => {
    const mock = inProcessMock();
    expect((await mock.postImage({ image })).status).toBe(200);
    expect((await mock.postImage({ image, includeCroppedImage: 'true' })).status).toBe(200); // a miss: no crop yet
    expect((await mock.postImage({ image })).status).toBe(200);
    expect((await mock.postImage({ image, includeCroppedImage: 'true' })).status).toBe(200);
    expect(await cacheOf(mock)).toMatchObject({ entries: 1, hits: 2, misses: 2 });
  });

  it('never holds more than its bound, the least recently used going first', async () => {
    const images = await Promise.all(Array.from({ length: 12 }, (_, i) => jpeg(96, 64, [i * 20, 255 - i * 20, 128])));
    const probe = inProcessMock();
    await probe.postImage({ image: images[0]! });
    // Room for about nine answers (an answer over an eighth of the bound is never kept).
    const bound = Math.floor((await cacheOf(probe)).bytes * 9.5);
    const mock = inProcessMock({ images: { cacheBytes: bound } });
    for (const each of images) {
      expect((await mock.postImage({ image: each })).status).toBe(200);
      expect((await cacheOf(mock)).bytes).toBeLessThanOrEqual(bound);
    }
    const stats = await cacheOf(mock);
    expect(stats.maxBytes).toBe(bound);
    expect(stats.entries).toBeGreaterThanOrEqual(8);
    expect(stats.entries).toBeLessThan(images.length); // the oldest were pushed out
    await mock.postImage({ image: images.at(-1)! });
    expect((await cacheOf(mock)).hits).toBe(1);
    await mock.postImage({ image: images[0]! });
    expect((await cacheOf(mock)).hits).toBe(1);
  });
});

describe('uploads without Content-Length', () => {
  let mock: RunningMockServer | undefined;
  afterEach(async () => {
    await mock?.close();
    mock = undefined;
  });

  it('a 200 over a socket is the same bytes as in-process, with its length and the mock version, also as multipart/mixed', async () => {
    mock = await startTestMock();
    const twin = inProcessMock(); // the same requests in the same order: the same credits left
    for (const includeCroppedImage of [undefined, 'true']) {
      const fields = includeCroppedImage ? { image, includeCroppedImage } : { image };
      const viaSocket = await fetch(mock.endpoint, { method: 'POST', body: imageForm(fields), headers: { 'License-Id': '1234' } });
      const bytes = Buffer.from(await viaSocket.arrayBuffer());
      expect(viaSocket.status).toBe(200);
      expect(viaSocket.headers.get('content-length')).toBe(String(bytes.length));
      expect(viaSocket.headers.get('x-beia-mock-version')).toBe(MOCK_VERSION);
      const inProcess = await twin.postImage(fields);
      expect(viaSocket.headers.get('content-type')).toBe(inProcess.headers.get('content-type'));
      expect(bytes.equals(Buffer.from(await inProcess.arrayBuffer()))).toBe(true);
    }
  });

  it('a chunked upload gets the same answer as one with Content-Length', async () => {
    mock = await startTestMock();
    const form = rawForm([
      { name: 'licenseId', value: '1234' },
      { name: 'apiKey', value: '5678' },
      { name: 'image', filename: 'a.jpg', contentType: 'image/jpeg', data: image },
    ]);
    const send = (chunked: boolean) =>
      new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
        const url = new URL(mock!.endpoint);
        const headers: Record<string, string | number> = { 'Content-Type': form.contentType, 'License-Id': '1234' };
        if (!chunked) headers['Content-Length'] = form.body.length;
        const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        });
        req.on('error', reject);
        // Several writes, so a chunked body really arrives in chunks.
        for (let at = 0; at < form.body.length; at += 4096) req.write(form.body.subarray(at, at + 4096));
        req.end();
      });
    const withLength = await send(false);
    const chunked = await send(true);
    expect(withLength.status).toBe(200);
    expect(chunked.status).toBe(200);
    expect(chunked.body.equals(withLength.body)).toBe(true);
  });
});
