import { parseMultipart } from '@remix-run/multipart-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { inProcessMock } from './helpers/app.js';
import { decode, jpeg, png } from './helpers/images.js';

let image: Buffer;
beforeAll(async () => {
  image = await jpeg(320, 200);
});

async function partsOf(res: Response) {
  const boundary = /boundary=([^;]+)/.exec(res.headers.get('content-type') ?? '')?.[1];
  if (!boundary) throw new Error(`not multipart: ${res.headers.get('content-type')}`);
  return [...parseMultipart(new Uint8Array(await res.arrayBuffer()), { boundary })];
}

describe('the result image (M6)', () => {
  it('is a real PNG of the input size that fully decodes', async () => {
    const res = await inProcessMock().postImage({ image });
    expect(await decode(new Uint8Array(await res.arrayBuffer()))).toEqual({ format: 'png', width: 320, height: 200 });
  });

  it('is the same bytes for the same input, and different for a different input', async () => {
    const mock = inProcessMock();
    const first = Buffer.from(await (await mock.postImage({ image })).arrayBuffer());
    const again = Buffer.from(await (await mock.postImage({ image })).arrayBuffer());
    const other = Buffer.from(await (await mock.postImage({ image: await jpeg(320, 200, [10, 10, 10]) })).arrayBuffer());
    expect(again.equals(first)).toBe(true);
    expect(other.equals(first)).toBe(false);
  });

  it('is not the input: it carries the visible mock mark', async () => {
    const input = await png(320, 200, [200, 60, 20]);
    const res = await inProcessMock().postImage({ image: input, filename: 'a.png' });
    const { default: sharp } = await import('sharp');
    const { data, info } = await sharp(Buffer.from(await res.arrayBuffer()))
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    let white = 0;
    let unchanged = 0;
    for (let i = 0; i < data.length; i += info.channels) {
      if (data[i] === 255 && data[i + 1] === 255 && data[i + 2] === 255) white += 1;
      if (data[i] === 200 && data[i + 1] === 60 && data[i + 2] === 20) unchanged += 1;
    }
    const pixels = info.width * info.height;
    // The input is one flat colour: the result keeps most of it and adds the white "BEIA MOCK" text.
    expect(white).toBeGreaterThan(pixels * 0.02);
    expect(unchanged).toBeGreaterThan(pixels * 0.5);
    expect(unchanged).toBeLessThan(pixels * 0.95);
  });

  it('is scaled down to images.maxSide, keeping the aspect ratio', async () => {
    const res = await inProcessMock({ images: { maxSide: 100 } }).postImage({ image });
    expect(await decode(new Uint8Array(await res.arrayBuffer()))).toMatchObject({ width: 100, height: 63 });
  });
});

describe('includeCroppedImage (D5, M4, M5)', () => {
  it.each(['true', 'TRUE', '1', 'True'])('%s gives multipart/mixed with result, cropped and credits', async (value) => {
    const res = await inProcessMock().postImage({ image, includeCroppedImage: value });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^multipart\/mixed; boundary=/);
    expect(res.headers.get('credits-remaining')).toBe('99');
    const parts = await partsOf(res);
    expect(parts.map((p) => p.name)).toEqual(['result', 'cropped', 'credits']);
    expect(parts.map((p) => p.headers['content-type'])).toEqual(['image/png', 'image/png', 'text/plain']);
    expect(await decode(parts[0]!.bytes)).toMatchObject({ width: 320, height: 200 });
    expect(await decode(parts[1]!.bytes)).toMatchObject({ width: 160, height: 100 });
    expect(parts[2]!.text).toBe('99');
  });

  it.each(['false', '0', 'FALSE'])('%s gives a single PNG', async (value) => {
    const res = await inProcessMock().postImage({ image, includeCroppedImage: value });
    expect(res.headers.get('content-type')).toBe('image/png');
  });

  it('an unknown value reads as false when rules.strictBooleans is off', async () => {
    const res = await inProcessMock({ rules: { strictBooleans: false } }).postImage({ image, includeCroppedImage: 'yes' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
  });

  it('labels parts by Content-ID only when rules.partLabels is "content-id"', async () => {
    const res = await inProcessMock({ rules: { partLabels: 'content-id' } }).postImage({ image, includeCroppedImage: 'true' });
    const parts = await partsOf(res);
    expect(parts.map((p) => p.headers['content-id'])).toEqual(['<result>', '<cropped>', '<credits>']);
    expect(parts.every((p) => p.headers['content-disposition'] === undefined)).toBe(true);
  });

  it('sends the credits part as JSON when rules.creditsPartFormat is "json"', async () => {
    const res = await inProcessMock({ rules: { creditsPartFormat: 'json' } }).postImage({ image, includeCroppedImage: '1' });
    const credits = (await partsOf(res))[2]!;
    expect(credits.headers['content-type']).toBe('application/json');
    expect(JSON.parse(credits.text)).toEqual({ credits: 99 });
  });
});
