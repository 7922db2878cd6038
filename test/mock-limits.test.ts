import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { MockAdminClient, validateConfig } from '../src/mock/index.js';
import { errorCode, inProcessMock } from './helpers/app.js';
import { jpeg } from './helpers/images.js';
import { eventually, sendImage, startTestMock } from './helpers/server.js';

/** A JPEG of random pixels: it does not compress, so its size is about what is asked. */
async function noisyJpeg(side: number): Promise<Buffer> {
  return sharp(randomBytes(side * side * 3), { raw: { width: side, height: side, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

const HEAD = (contentLength: number, licenseId = '1234') =>
  `POST /beia-api/v1/image HTTP/1.1\r\nHost: x\r\nLicense-Id: ${licenseId}\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: ${contentLength}\r\n\r\n`;

/** A raw connection from `localAddress`, with the whole answer it got once the server closes it. */
function rawClient(port: number, localAddress: string): { socket: Socket; answer: Promise<string>; connected: Promise<void> } {
  const socket = connect({ port, host: '127.0.0.1', localAddress });
  socket.on('error', () => {});
  const connected = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const answer = new Promise<string>((resolve) => {
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString('latin1')));
    socket.on('close', () => resolve(text));
  });
  return { socket, answer, connected };
}

describe('limits are exact: the limit itself is accepted, one more is refused', () => {
  let image: Buffer;
  beforeAll(async () => {
    image = await jpeg(64, 48);
  });

  it('limits.maxUploadBytes: a file of exactly that size is a 200, one byte more a 413', async () => {
    const exact = inProcessMock({ limits: { maxUploadBytes: image.length } });
    expect((await exact.postImage({ image })).status).toBe(200);
    const under = inProcessMock({ limits: { maxUploadBytes: image.length - 1 } });
    const refused = await under.postImage({ image });
    expect(refused.status).toBe(413);
    expect(await errorCode(refused)).toBe('payload_too_large');
  });

  it('limits.maxFieldBytes: a field of exactly that size is accepted, one byte more is a 400', async () => {
    const id16 = 'L'.repeat(16);
    const licenses = [
      { licenseId: id16, apiKey: 'k' },
      { licenseId: `${id16}x`, apiKey: 'k' },
    ];
    const mock = inProcessMock({ licenses, limits: { maxFieldBytes: 16 } });
    expect((await mock.postImage({ image, licenseId: id16, apiKey: 'k' }, { headers: { 'License-Id': id16 } })).status).toBe(200);
    const refused = await mock.postImage({ image, licenseId: `${id16}x`, apiKey: 'k' }, { headers: { 'License-Id': `${id16}x` } });
    expect(refused.status).toBe(400);
    expect(await errorCode(refused)).toBe('invalid_field');
  });

  it('limits.maxParts: a form of exactly that many parts is accepted, one more is a 400', async () => {
    const fourParts = { image, includeCroppedImage: 'false' };
    expect((await inProcessMock({ limits: { maxParts: 4 } }).postImage(fourParts)).status).toBe(200);
    const refused = await inProcessMock({ limits: { maxParts: 3 } }).postImage(fourParts);
    expect(refused.status).toBe(400);
    expect(await errorCode(refused)).toBe('too_many_parts');
  });

  it('limits.maxInputPixels: an image of exactly that many pixels is a 200, one pixel fewer allowed a 415', async () => {
    expect((await inProcessMock({ limits: { maxInputPixels: 64 * 48 } }).postImage({ image })).status).toBe(200);
    const refused = await inProcessMock({ limits: { maxInputPixels: 64 * 48 - 1 } }).postImage({ image });
    expect(refused.status).toBe(415);
    expect(await errorCode(refused)).toBe('image_too_large');
  });

  it('refuses a config whose largest upload cannot fit in one client share', () => {
    expect(() => validateConfig({ limits: { maxUploadBytes: 1000, maxBufferedBytes: 1000, maxClientShare: 0.5 } })).toThrow(
      'config.limits.maxUploadBytes: expected at most limits.maxBufferedBytes x limits.maxClientShare (500)',
    );
  });
});

describe('slow and greedy senders cannot starve the others', () => {
  it('40 slow senders from one address: the other address gets every normal answer, the slow ones a 408 in time, and nothing stays held', async () => {
    // Defaults but a short rate window, so the test takes seconds, not the default 10 s.
    const mock = await startTestMock({
      licenses: [{ licenseId: '1234', apiKey: '5678', credits: 1000, allowedIps: ['127.0.0.0/8'], maxConcurrent: 2 }],
      limits: { minBytesPerSecond: 1024, minRateWindowMs: 1000 },
    });
    const image = await jpeg(64, 48);
    const started = Date.now();
    const slow = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const client = rawClient(mock.port, '127.0.0.2');
        await client.connected;
        client.socket.write(`${HEAD(100_000)}--b\r\n`);
        // 10 bytes every 200 ms: 50 bytes/s, for at most 10 s.
        const trickle = setInterval(() => client.socket.writable && client.socket.write('xxxxxxxxxx'), 200);
        const stop = setTimeout(() => client.socket.destroy(), 10_000);
        void client.answer.then(() => {
          clearInterval(trickle);
          clearTimeout(stop);
        });
        return client;
      }),
    );
    // Meanwhile the other address, as any CI job would: all served, none refused.
    const statuses: number[] = [];
    for (let i = 0; i < 10; i += 1) statuses.push((await sendImage(mock.endpoint, image)).status);
    expect(statuses).toEqual(Array(10).fill(200));

    const answers = await Promise.all(slow.map((client) => client.answer));
    const elapsed = Date.now() - started;
    for (const answer of answers) {
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
      expect(answer).toContain('under the 1024 bytes/s the mock needs (limits.minBytesPerSecond)');
    }
    expect(elapsed).toBeLessThan(5_000); // one to two windows, far below requestTimeoutMs (60 s)
    const admin = new MockAdminClient(mock.url);
    await eventually(async () => {
      const health = await admin.health();
      return health.inFlight === 0 && health.uploads.receiving === 0 && health.uploads.bufferedBytes === 0;
    });
    expect((await mock.store.getLicense('1234'))!.credits).toBe(990);
  });

  it('bounds the bytes held, in all and per client address, with a 429 that names the bound; freed when the requests end', async () => {
    const mock = await startTestMock({
      licenses: [{ licenseId: '1234', apiKey: '5678', allowedIps: ['127.0.0.0/8'] }],
      limits: { maxBufferedBytes: 200_000, maxClientShare: 0.5, maxUploadBytes: 100_000, minBytesPerSecond: 0 },
    });
    const admin = new MockAdminClient(mock.url);
    // Two clients each start an upload and send 90 000 bytes of it, then stall.
    const stalled = await Promise.all(
      ['127.0.0.2', '127.0.0.3'].map(async (address) => {
        const client = rawClient(mock.port, address);
        await client.connected;
        client.socket.write(`${HEAD(100_000)}--b\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n\r\n${'x'.repeat(90_000)}`);
        return client;
      }),
    );
    await eventually(async () => (await admin.health()).uploads.bufferedBytes >= 180_000);

    // A third address: its 34 kB upload would pass the 200 000 bytes of the whole mock.
    const image = await noisyJpeg(200);
    const full = await sendImage(mock.endpoint, image);
    expect(full.status).toBe(429);
    expect(full.headers['retry-after']).toBe('1');
    expect(JSON.parse(full.body.toString()).error.message).toContain('would pass its limit of 200000 (limits.maxBufferedBytes)');

    // One of the stalled addresses again: its share (100 000) is nearly used.
    const second = rawClient(mock.port, '127.0.0.2');
    await second.connected;
    second.socket.write(`${HEAD(100_000)}--b\r\nContent-Disposition: form-data; name="image"; filename="b.jpg"\r\n\r\n${'y'.repeat(30_000)}`);
    const secondAnswer = await second.answer;
    expect(secondAnswer).toMatch(/^HTTP\/1\.1 429/);
    expect(secondAnswer).toContain('its share of 100000 (limits.maxClientShare of limits.maxBufferedBytes)');

    for (const client of stalled) client.socket.destroy();
    await eventually(async () => (await admin.health()).uploads.bufferedBytes === 0);
    expect((await sendImage(mock.endpoint, image)).status).toBe(200);
  });

  it('keeps one address to its share of the uploads being received', async () => {
    const mock = await startTestMock({
      licenses: [{ licenseId: '1234', apiKey: '5678', allowedIps: ['127.0.0.0/8'] }],
      limits: { maxConcurrentUploads: 4, maxClientShare: 0.5, minBytesPerSecond: 0 },
    });
    const open = await Promise.all(
      [1, 2].map(async () => {
        const client = rawClient(mock.port, '127.0.0.2');
        await client.connected;
        client.socket.write(`${HEAD(100_000)}--b\r\n`);
        return client;
      }),
    );
    const admin = new MockAdminClient(mock.url);
    await eventually(async () => (await admin.health()).uploads.receiving === 2);
    const third = rawClient(mock.port, '127.0.0.2');
    third.socket.write(`${HEAD(100_000)}--b\r\n`);
    const answer = await third.answer;
    expect(answer).toMatch(/^HTTP\/1\.1 429/);
    expect(answer).toContain('127.0.0.2 is already sending 2 uploads, its share of the mock (limits.maxClientShare of limits.maxConcurrentUploads)');
    // Another address is not affected.
    expect((await sendImage(mock.endpoint, await jpeg())).status).toBe(200);
    for (const client of open) client.socket.destroy();
    await eventually(async () => (await admin.health()).uploads.receiving === 0);
  });
});
