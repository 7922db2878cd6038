import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { JournalEntry, JournalPart, RequestLogLine } from '../src/mock/index.js';
import { errorCode, inProcessMock } from './helpers/app.js';
import { jpeg } from './helpers/images.js';

/** One part of a multipart/form-data body written byte by byte: its header lines as sent. */
interface Part {
  /** The whole Content-Disposition value. */
  disposition: string;
  contentType?: string;
  body: Buffer | string;
}

const BOUNDARY = 'form-safety-3b9a';

function multipart(parts: Part[]): { body: Buffer; contentType: string } {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const type = part.contentType === undefined ? '' : `\r\nContent-Type: ${part.contentType}`;
    chunks.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: ${part.disposition}${type}\r\n\r\n`, 'latin1'));
    chunks.push(typeof part.body === 'string' ? Buffer.from(part.body, 'utf8') : part.body, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${BOUNDARY}` };
}

const field = (name: string, body: Buffer | string, contentType?: string): Part => ({
  disposition: `form-data; name="${name}"`,
  body,
  ...(contentType === undefined ? {} : { contentType }),
});

let image: Buffer;
beforeAll(async () => {
  image = await jpeg(48, 32);
});
const imagePart = (): Part => ({ disposition: 'form-data; name="image"; filename="001.jpg"', contentType: 'image/jpeg', body: image });

async function journal(mock: ReturnType<typeof inProcessMock>): Promise<JournalEntry[]> {
  const res = await mock.admin('GET', '/journal');
  expect(res.status).toBe(200);
  return (await res.json()) as JournalEntry[];
}

describe('a text part in any charset: decoded when Node knows it, a 400 naming the part when not, never a 500', () => {
  it.each([
    ['foo', 'charset=foo'],
    ['x-unknown-8', 'charset="x-unknown-8"'],
    // busboy's own decoders, but no charset: base64 turned "1234" into "MTIzNA==".
    ['base64', 'charset=base64'],
    ['', 'charset=""'],
  ])('charset "%s" on licenseId: 400 invalid_field that names the part and the charset and asks for UTF-8', async (charset, params) => {
    const mock = inProcessMock();
    const res = await mock.post(multipart([field('licenseId', '1234', `text/plain; ${params}`), field('apiKey', '5678'), imagePart()]));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('invalid_field');
    expect(body.error.message).toContain('Field "licenseId"');
    expect(body.error.message).toContain(`charset "${charset}"`);
    expect(body.error.message).toContain('UTF-8');
    expect(await mock.credits()).toBe(100);
  });

  it('an unknown charset on the apiKey part or on a part the API does not read is a 400 too, and the message holds no value', async () => {
    const mock = inProcessMock();
    const onKey = await mock.post(multipart([field('licenseId', '1234'), field('apiKey', 'k3y-v4lue', 'text/plain; charset=foo'), imagePart()]));
    expect(onKey.status).toBe(400);
    const message = ((await onKey.json()) as { error: { message: string } }).error.message;
    expect(message).toContain('Field "apiKey"');
    expect(message).not.toContain('k3y-v4lue');
    const onOther = await mock.post(
      multipart([field('licenseId', '1234'), field('apiKey', '5678'), field('note', 'hello', 'text/plain; charset=foo'), imagePart()]),
    );
    expect(onOther.status).toBe(400);
    expect(await errorCode(onOther)).toBe('invalid_field');
  });

  // Each id is sent in the part's charset, and no License-Id header can carry it (not Latin-1).
  it.each([
    ['iso-8859-2', 'Łódź-7', Buffer.from([0xa3, 0xf3, 0x64, 0xbc, 0x2d, 0x37])],
    ['ISO-8859-2 (quoted, upper case)', 'Łódź-7', Buffer.from([0xa3, 0xf3, 0x64, 0xbc, 0x2d, 0x37]), 'text/plain; charset="ISO-8859-2"'],
    ['shift_jis', '日本-7', Buffer.from([0x93, 0xfa, 0x96, 0x7b, 0x2d, 0x37])],
    ['big5', '中文-7', Buffer.from([0xa4, 0xa4, 0xa4, 0xe5, 0x2d, 0x37])],
    ['windows-1250', 'Łódź-7', Buffer.from([0xa3, 0xf3, 0x64, 0x9f, 0x2d, 0x37])],
  ])('charset %s: the licenseId is decoded to the same id, and the request is a 200', async (charset, licenseId, bytes, contentType?: string) => {
    const mock = inProcessMock({ licenses: [{ licenseId, apiKey: '5678' }], rules: { requireLicenseHeader: false } });
    const res = await mock.post(multipart([field('licenseId', bytes, contentType ?? `text/plain; charset=${charset}`), field('apiKey', '5678'), imagePart()]), {
      headers: { 'License-Id': null },
    });
    expect(res.status).toBe(200);
    expect(await mock.credits(licenseId)).toBe(99);
    const part = (await journal(mock))[0]!.parts.find((p) => p.name === 'licenseId');
    expect(part).toMatchObject({ value: licenseId, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
  });

  it("the type is still read as busboy reads it: a charset on a file part changes nothing, and a field's parameters busboy cannot read mean UTF-8", async () => {
    const mock = inProcessMock();
    const jpegWithCharset = { ...imagePart(), contentType: 'image/jpeg; charset=foo' };
    expect((await mock.post(multipart([field('licenseId', '1234'), field('apiKey', '5678'), jpegWithCharset]))).status).toBe(200);
    const asFile = await mock.post(multipart([field('licenseId', '1234', 'application/octet-stream; charset=utf-8'), field('apiKey', '5678'), imagePart()]));
    expect(asFile.status).toBe(400);
    expect(((await asFile.json()) as { error: { message: string } }).error.message).toContain('Field "licenseId" was sent as a file');
    for (const contentType of ['text/plain; charset', "text/plain; charset*=utf-8''big5", 'text/plain;;charset=foo']) {
      const res = await mock.post(multipart([field('licenseId', '1234', contentType), field('apiKey', '5678'), imagePart()]));
      expect(res.status, contentType).toBe(200);
    }
  });

  it('bytes invalid in the declared charset are read as U+FFFD, as before: the id then differs from the header (400), never a 500', async () => {
    const mock = inProcessMock();
    const invalid = Buffer.from([0x31, 0x32, 0xff, 0x33, 0x34]);
    for (const contentType of [undefined, 'text/plain; charset=utf-8']) {
      const res = await mock.post(multipart([field('licenseId', invalid, contentType), field('apiKey', '5678'), imagePart()]));
      expect(res.status).toBe(400);
      expect(await errorCode(res)).toBe('license_header_mismatch');
    }
  });
});

describe('an API key under any spelling of its name: recorded by name and size only', () => {
  const value = 'misnamed-key-9f2c41';
  const digest = createHash('sha256').update(value).digest('hex');

  it.each(['api_key', 'api-key', 'apikey ', ' apiKey', 'API.KEY', 'Api Key', 'API_Key'])(
    'a field named "%s": no value and no sha256 in the journal, nothing in the log',
    async (name) => {
      const lines: RequestLogLine[] = [];
      const mock = inProcessMock({}, { logger: (line) => lines.push(line) });
      const res = await mock.post(multipart([field('licenseId', '1234'), field('apiKey', '5678'), field(name, value), imagePart()]));
      // Only the real apiKey field is the credential: the request is served as before.
      expect(res.status).toBe(200);
      const entries = await journal(mock);
      const part = entries[0]!.parts.find((p) => p.name === name);
      expect(part).toEqual<JournalPart>({ name, kind: 'field', size: value.length });
      const text = JSON.stringify(entries);
      expect(text).not.toContain(value);
      expect(text).not.toContain(digest);
      expect(lines.length).toBeGreaterThan(0);
      expect(JSON.stringify(lines)).not.toContain(value);
    },
  );

  it('a file part named "api-key": no content type, filename or sha256 either', async () => {
    const mock = inProcessMock();
    const res = await mock.post(
      multipart([
        field('licenseId', '1234'),
        field('apiKey', '5678'),
        { disposition: 'form-data; name="api-key"; filename="key.txt"', contentType: 'text/plain', body: value },
        imagePart(),
      ]),
    );
    expect(res.status).toBe(200);
    const entries = await journal(mock);
    expect(entries[0]!.parts.find((p) => p.name === 'api-key')).toEqual<JournalPart>({ name: 'api-key', kind: 'file', size: value.length });
    expect(JSON.stringify(entries)).not.toContain(digest);
  });

  it('a name that only contains the word is not masked, and a misnamed key does not authenticate', async () => {
    const mock = inProcessMock();
    await mock.post(multipart([field('licenseId', '1234'), field('apiKey', '5678'), field('apiKeyHint', 'first four'), imagePart()]));
    expect((await journal(mock))[0]!.parts.find((p) => p.name === 'apiKeyHint')).toMatchObject({ value: 'first four' });
    const misnamedOnly = await mock.post(multipart([field('licenseId', '1234'), field('api_key', '5678'), imagePart()]));
    expect(misnamedOnly.status).toBe(400);
    expect(await errorCode(misnamedOnly)).toBe('missing_field');
  });
});
