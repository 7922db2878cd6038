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
