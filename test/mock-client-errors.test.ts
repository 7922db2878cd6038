import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { IMAGE_PATH } from '../src/contract/index.js';
import { MOCK_VERSION, type JournalEntry, type RequestLogLine } from '../src/mock/index.js';
import { eventually, startTestMock } from './helpers/server.js';

/** Writes each string to a raw socket (a number waits that many ms first), then reads until the server closes. */
async function rawExchange(port: number, steps: Array<string | number>): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  await new Promise((resolve) => socket.once('connect', resolve));
  for (const step of steps) {
    if (socket.destroyed) break;
    if (typeof step === 'number') await new Promise((resolve) => setTimeout(resolve, step));
    else socket.write(step);
  }
  await closed;
  return text;
}

/** A raw HTTP/1.1 answer split into its status, headers (lower-case names) and body. */
function parseAnswer(text: string): { status: number; headers: Record<string, string>; body: string } {
  const end = text.indexOf('\r\n\r\n');
  expect(end, `not an HTTP answer: ${JSON.stringify(text.slice(0, 200))}`).toBeGreaterThan(0);
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(/^HTTP\/1\.1 (\d{3}) /.exec(statusLine!)?.[1]), headers, body: text.slice(end + 4) };
}

/** A mock whose log lines the test reads. */
async function mockWithLog(config: unknown = {}) {
  const lines: RequestLogLine[] = [];
  const mock = await startTestMock(config, { logger: (line) => lines.push(line) });
  return { mock, lines };
}

async function journalOf(url: string): Promise<JournalEntry[]> {
  return (await (await fetch(`${url}/__admin/journal`)).json()) as JournalEntry[];
}

/** The answer is the mock's own: its status, version header, Connection: close and JSON envelope with a message that says what to do. */
function expectMockAnswer(text: string, status: number, code: string, message: RegExp) {
  const answer = parseAnswer(text);
  expect(answer.status).toBe(status);
  expect(answer.headers['x-beia-mock-version']).toBe(MOCK_VERSION);
  expect(answer.headers.connection).toBe('close');
  expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
  expect(Number(answer.headers['content-length'])).toBe(Buffer.byteLength(answer.body));
  const body = JSON.parse(answer.body) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message).toMatch(message);
  return answer;
}

describe("Node's HTTP parser errors get the mock's own answer, a log line and a journal entry", () => {
  it('a malformed request line: 400 bad_request', async () => {
    const { mock, lines } = await mockWithLog();
    const text = await rawExchange(mock.port, ['NOT A REQUEST\r\n\r\n']);
    const answer = expectMockAnswer(text, 400, 'bad_request', /could not be parsed as HTTP\/1\.1.*Send/);

    await eventually(async () => (await journalOf(mock.url)).length === 1);
    const [entry] = await journalOf(mock.url);
    expect(entry).toMatchObject({ status: 400, code: 'bad_request', method: '-', path: '-', remoteAddress: '127.0.0.1' });
    expect(entry!.responseHeaders).toEqual(Object.fromEntries(Object.entries(answer.headers).filter(([name]) => name !== 'date')));
    expect(lines.filter((line) => line.status === 400)).toEqual([
      expect.objectContaining({
        msg: 'request',
        level: 'warn',
        method: '-',
        path: '-',
        status: 400,
        remoteAddress: '127.0.0.1',
        code: 'bad_request',
        error: 'HPE_INVALID_METHOD',
      }),
    ]);
    expect((await fetch(`${mock.url}/__admin/health`)).status).toBe(200);
  });

  it('20 KB of headers: 431 headers_too_large, with the path the request line named', async () => {
    const { mock, lines } = await mockWithLog();
    const text = await rawExchange(mock.port, [`GET ${IMAGE_PATH}?a=1 HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`]);
    expectMockAnswer(text, 431, 'headers_too_large', /larger than the 16384 bytes.*Send/);

    await eventually(async () => (await journalOf(mock.url)).length === 1);
    expect(await journalOf(mock.url)).toMatchObject([{ status: 431, code: 'headers_too_large', method: 'GET', path: IMAGE_PATH, remoteAddress: '127.0.0.1' }]);
    expect(lines.filter((line) => line.status === 431)).toEqual([
      expect.objectContaining({
        method: 'GET',
        path: IMAGE_PATH,
        status: 431,
        remoteAddress: '127.0.0.1',
        code: 'headers_too_large',
        error: 'HPE_HEADER_OVERFLOW',
      }),
    ]);
  });

  it('headers that arrive too slowly: 408 request_timeout after headersTimeout', async () => {
    // headersTimeout is limits.requestTimeoutMs + 2 s: 2.1 s here.
    const { mock, lines } = await mockWithLog({ limits: { requestTimeoutMs: 100 } });
    const slowHeaders = Array.from({ length: 20 }, (_, i) => [300, `X-Slow-${i}: 1\r\n`]).flat();
    const started = Date.now();
    const text = await rawExchange(mock.port, [`GET ${IMAGE_PATH} HTTP/1.1\r\nHost: x\r\n`, ...slowHeaders]);
    expect(Date.now() - started).toBeLessThan(5_000);
    expectMockAnswer(text, 408, 'request_timeout', /did not arrive within 2100 ms.*Send/);

    await eventually(async () => (await journalOf(mock.url)).length === 1);
    expect(await journalOf(mock.url)).toMatchObject([{ status: 408, code: 'request_timeout', method: '-', path: '-', remoteAddress: '127.0.0.1' }]);
    expect(lines.filter((line) => line.status === 408)).toEqual([
      expect.objectContaining({ status: 408, remoteAddress: '127.0.0.1', code: 'request_timeout', error: 'ERR_HTTP_REQUEST_TIMEOUT' }),
    ]);
  });

  it('a bad chunk after valid headers: 400 bad_request, journaled as the client got it (not 499)', async () => {
    const { mock, lines } = await mockWithLog();
    const head = `POST ${IMAGE_PATH} HTTP/1.1\r\nHost: x\r\nLicense-Id: 1234\r\nContent-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const part = '--b\r\nContent-Disposition: form-data; name="licenseId"\r\n\r\n1234\r\n';
    const text = await rawExchange(mock.port, [head, `${part.length.toString(16)}\r\n${part}\r\n`, 200, 'zz\r\n']);
    const answer = expectMockAnswer(text, 400, 'bad_request', /body could not be read.*chunk.*Send/);

    await eventually(async () => (await journalOf(mock.url)).length === 1);
    const [entry] = await journalOf(mock.url);
    expect(entry).toMatchObject({ status: 400, code: 'bad_request', method: 'POST', path: IMAGE_PATH, remoteAddress: '127.0.0.1', licenseId: '1234' });
    // The headers the client got, not those of an answer that never left.
    expect(entry!.responseHeaders).toEqual(Object.fromEntries(Object.entries(answer.headers).filter(([name]) => name !== 'date')));
    expect(lines.filter((line) => line.path === IMAGE_PATH)).toEqual([
      expect.objectContaining({ method: 'POST', status: 400, code: 'bad_request', error: 'HPE_INVALID_CHUNK_SIZE' }),
    ]);
    expect(await mock.store.inFlight()).toBe(0);
    expect((await mock.store.getLicense('1234'))!.credits).toBe(100);
  });

  it('a client that leaves mid-upload is still 499, without response headers it never got', async () => {
    const { mock } = await mockWithLog();
    const head = `POST ${IMAGE_PATH} HTTP/1.1\r\nHost: x\r\nLicense-Id: 1234\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n--b\r\n`;
    const socket = connect(mock.port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write(head);
    await new Promise((resolve) => setTimeout(resolve, 150));
    socket.destroy();
    await eventually(async () => (await journalOf(mock.url)).length === 1);
    const [entry] = await journalOf(mock.url);
    expect(entry).toMatchObject({ status: 499, path: IMAGE_PATH });
    expect(entry!.responseHeaders).toBeUndefined();
  });
});
