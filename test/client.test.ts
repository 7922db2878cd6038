import { createReadStream } from 'node:fs';
import { copyFile, mkdtemp, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, type Dispatcher } from 'undici';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BadRequestError,
  BeiaApiError,
  BeiaClient,
  BeiaError,
  BeiaNetworkError,
  BeiaTimeoutError,
  InputChangedError,
  InvalidLicenseError,
  IpNotAllowedError,
  NoCreditsError,
  ServerError,
  TooManyRequestsError,
  UnsupportedFileError,
  imageSource,
  processBatch,
} from '../src/client/index.js';
import { formBody } from '../src/client/form-body.js';
import type * as ApiErrorsModule from '../src/contract/api-errors.js';
import { decode, jpeg, png } from './helpers/images.js';
import { eventually, startTestMock } from './helpers/server.js';
import { REPO } from './helpers/cli.js';
import { MockAdminClient } from '../src/mock/index.js';

let image: Buffer;
beforeAll(async () => {
  image = await jpeg(160, 120);
});

function clientFor(endpoint: string, options: Partial<ConstructorParameters<typeof BeiaClient>[0]> = {}) {
  return new BeiaClient({ endpoint, licenseId: '1234', apiKey: '5678', retryBaseDelayMs: 20, ...options });
}

/** A dispatcher that adds the mock's scenario header to every request, to get any status for real. */
function scenario(status: string): Dispatcher {
  return new Agent().compose(
    (dispatch) => (options, handler) =>
      dispatch({ ...options, headers: { ...(options.headers as Record<string, string>), 'x-beia-mock-scenario': status } }, handler),
  );
}

describe('BeiaClient against beia mock', () => {
  it('returns the PNG and the credits left', async () => {
    const mock = await startTestMock();
    const { result, cropped, creditsRemaining, attempts } = await clientFor(mock.endpoint).process(image, { filename: 'a.jpg' });
    expect(await decode(result)).toEqual({ format: 'png', width: 160, height: 120 });
    expect(cropped).toBeUndefined();
    expect(creditsRemaining).toBe(99);
    expect(attempts).toBe(1);
  });

  it('returns the cropped image from the multipart/mixed answer', async () => {
    const mock = await startTestMock();
    const { result, cropped, creditsRemaining } = await clientFor(mock.endpoint).process(image, { includeCroppedImage: true });
    expect(await decode(result)).toMatchObject({ width: 160, height: 120 });
    expect(await decode(cropped!)).toMatchObject({ width: 80, height: 60 });
    expect(creditsRemaining).toBe(99);
  });

  it('reads a multipart/mixed answer labelled only by Content-ID', async () => {
    const mock = await startTestMock({ rules: { partLabels: 'content-id', creditsPartFormat: 'json' } });
    const { cropped } = await clientFor(mock.endpoint).process(image, { includeCroppedImage: true });
    expect(await decode(cropped!)).toMatchObject({ width: 80, height: 60 });
  });

  it('sends a file path streamed from disk, a Blob and a stream, with their names', async () => {
    const mock = await startTestMock();
    const dir = await mkdtemp(join(tmpdir(), 'beia-client-'));
    const path = join(dir, 'photo.png');
    await writeFile(path, await png(40, 30));
    const client = clientFor(mock.endpoint);
    await client.process(path);
    await client.process(new Blob([new Uint8Array(image)]), { filename: 'blob.jpg' });
    await client.process(createReadStream(path));
    const journal = await mock.store.listJournal();
    expect(journal.map((e) => e.parts.find((p) => p.name === 'image')?.filename)).toEqual(['photo.png', 'blob.jpg', 'photo.png']);
    expect(journal.every((e) => e.status === 200)).toBe(true);
    await expect(client.process(join(dir, 'missing.jpg'))).rejects.toThrow(`Failed to read image ${join(dir, 'missing.jpg')}: no such file`);
  });

  it('sends what the vendor samples send: the four fields, the License-Id header, the image as application/octet-stream', async () => {
    const mock = await startTestMock();
    await clientFor(mock.endpoint).process(image, { includeCroppedImage: true, filename: 'x.jpg' });
    const [entry] = await mock.store.listJournal();
    expect(entry!.parts.map((p) => [p.name, p.kind, p.contentType])).toEqual([
      ['licenseId', 'field', undefined],
      ['apiKey', 'field', undefined],
      ['includeCroppedImage', 'field', undefined],
      ['image', 'file', 'application/octet-stream'],
    ]);
  });
});

describe('typed errors, each from a real answer', () => {
  it.each([
    ['400', BadRequestError, 'bad_request'],
    ['401', InvalidLicenseError, 'invalid_license'],
    ['402', NoCreditsError, 'no_credits'],
    ['403', IpNotAllowedError, 'ip_not_allowed'],
    ['415', UnsupportedFileError, 'unsupported_file'],
  ] as const)('%s is a %s, with its code and status, and is not retried', async (status, Type, code) => {
    const mock = await startTestMock();
    const error = await clientFor(mock.endpoint, { dispatcher: scenario(status), retries: 3 })
      .process(image)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Type);
    expect(error).toBeInstanceOf(BeiaApiError);
    expect(error).toBeInstanceOf(BeiaError);
    expect(error).toMatchObject({ status: Number(status), code, name: Type.name });
    expect(await mock.store.listJournal()).toHaveLength(1);
  });

  it('429 and 500 are retried, then thrown as TooManyRequestsError and ServerError', async () => {
    const mock = await startTestMock();
    const busy = await clientFor(mock.endpoint, { dispatcher: scenario('429'), retries: 1 })
      .process(image)
      .catch((e: unknown) => e);
    expect(busy).toBeInstanceOf(TooManyRequestsError);
    expect(busy).toMatchObject({ retryAfterMs: 1000, creditsRemaining: 100 });
    // The client waited out the Retry-After of its 429 before it asked again.
    expect((await mock.store.listJournal()).map((entry) => [entry.status, entry.retryTooEarly ?? false])).toEqual([
      [429, false],
      [429, false],
    ]);
    const failing = await clientFor(mock.endpoint, { dispatcher: scenario('500'), retries: 2 })
      .process(image)
      .catch((e: unknown) => e);
    expect(failing).toBeInstanceOf(ServerError);
    expect(await mock.store.listJournal()).toHaveLength(2 + 3);
  });

  it('errors from real state: wrong key 401, no credits 402 with creditsRemaining 0, a text file 415, another address 403', async () => {
    const mock = await startTestMock({ licenses: [{ licenseId: '1234', apiKey: '5678', allowedIps: ['127.0.0.1'] }] });
    await expect(clientFor(mock.endpoint, { apiKey: 'nope' }).process(image)).rejects.toBeInstanceOf(InvalidLicenseError);
    const notImage = await clientFor(mock.endpoint)
      .process(Buffer.from('hello'))
      .catch((e: unknown) => e);
    expect(notImage).toBeInstanceOf(UnsupportedFileError);
    expect(notImage).toMatchObject({ creditsRemaining: 100, serverMessage: expect.stringContaining('Failed to read the image') });
    const other = new Agent({ localAddress: '127.0.0.2' });
    const denied = await clientFor(mock.endpoint, { dispatcher: other })
      .process(image)
      .catch((e: unknown) => e);
    await other.close();
    expect(denied).toBeInstanceOf(IpNotAllowedError);
    expect((denied as Error).message).toContain('must come from a static IP registered with BEIA');
    await mock.store.updateLicense('1234', { credits: 0 });
    const broke = await clientFor(mock.endpoint, { retries: 3 })
      .process(image)
      .catch((e: unknown) => e);
    expect(broke).toBeInstanceOf(NoCreditsError);
    expect(broke).toMatchObject({ creditsRemaining: 0 });
    expect((await mock.store.listJournal()).filter((e) => e.status === 402)).toHaveLength(1);
  });
});

describe('retries', () => {
  it("after a 429, waits at least the server's Retry-After, then succeeds", async () => {
    const mock = await startTestMock();
    await mock.store.updateLicense('1234', { maxConcurrent: 0 });
    setTimeout(() => void mock.store.updateLicense('1234', { maxConcurrent: 2 }), 200);
    const delays: number[] = [];
    const started = Date.now();
    const { attempts } = await clientFor(mock.endpoint, { onRetry: (info) => delays.push(info.delayMs) }).process(image);
    expect(attempts).toBe(2);
    expect(delays[0]).toBeGreaterThanOrEqual(1000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('after injected 500s: retried until it works, one credit spent', async () => {
    const mock = await startTestMock();
    await mock.store.armFault({ type: 'error', count: 2 });
    const { attempts, creditsRemaining } = await clientFor(mock.endpoint).process(image);
    expect(attempts).toBe(3);
    expect(creditsRemaining).toBe(99);
  });

  it('a connection reset after the request was sent is not retried: it may have been charged', async () => {
    const mock = await startTestMock();
    await mock.store.armFault({ type: 'reset', count: 1 });
    const error = await clientFor(mock.endpoint, { retries: 3 })
      .process(image)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BeiaNetworkError);
    expect(error).toMatchObject({ requestSent: true, code: 'network_error' });
    expect((error as Error).message).toContain('may have been processed and charged');
    expect(await mock.store.listJournal()).toHaveLength(1);
  });

  it('a failure before the request was sent is retried, then reported as nothing charged', async () => {
    const mock = await startTestMock();
    const port = mock.port;
    await mock.close();
    const retried: number[] = [];
    const error = await clientFor(`http://127.0.0.1:${port}/beia-api/v1/image`, { retries: 2, onRetry: (i) => retried.push(i.attempt) })
      .process(image)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BeiaNetworkError);
    expect(error).toMatchObject({ requestSent: false });
    expect((error as Error).message).toContain('nothing was charged');
    expect(retried).toEqual([1, 2]);
  });
});

describe('retry limits', () => {
  it('stopRetrying ends a pending retry with the last answer, without another attempt', async () => {
    const mock = await startTestMock();
    const stop = new AbortController();
    const client = clientFor(mock.endpoint, { dispatcher: scenario('429'), retries: 5, onRetry: () => setTimeout(() => stop.abort(), 50) });
    const error = await client.process(image, { stopRetrying: stop.signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TooManyRequestsError);
    expect(await mock.store.listJournal()).toHaveLength(1);
  });

  it('a Retry-After longer than retryMaxDelayMs is not waited out: the 429 is thrown at once', async () => {
    const mock = await startTestMock({ processing: { retryAfterSeconds: 3600 } });
    const started = Date.now();
    const error = await clientFor(mock.endpoint, { dispatcher: scenario('429'), retries: 3 })
      .process(image)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 429, retryAfterMs: 3_600_000 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await mock.store.listJournal()).toHaveLength(1);
  });

  it("an abort during the backoff, or while waiting for the client's own slot, rejects with its reason", async () => {
    const mock = await startTestMock();
    const during = new AbortController();
    const client = clientFor(mock.endpoint, {
      dispatcher: scenario('500'),
      retries: 5,
      retryBaseDelayMs: 5_000,
      onRetry: () => during.abort(new Error('stop now')),
    });
    await expect(client.process(image, { signal: during.signal })).rejects.toThrow('stop now');

    await mock.store.armFault({ type: 'latency', latencyMs: 1_000, count: 1 });
    const single = clientFor(mock.endpoint, { maxConcurrent: 1 });
    const first = single.process(image);
    const waiting = new AbortController();
    const second = single.process(image, { signal: waiting.signal });
    waiting.abort(new Error('gave up waiting'));
    await expect(second).rejects.toThrow('gave up waiting');
    expect((await first).attempts).toBe(1);
  });

  it('a file that changes size between the start of the upload and its sending is an InputChangedError', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'beia-client-'));
    const path = join(dir, 'growing.jpg');
    await writeFile(path, image);
    const source = await imageSource(path);
    await writeFile(path, Buffer.concat([image, image]));
    const body = formBody({ licenseId: '1', apiKey: 'k', includeCroppedImage: false }, source);
    const drain = async () => {
      for await (const chunk of body.stream(() => {})) void chunk;
    };
    const error = await drain().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputChangedError);
    expect((error as Error).message).toContain(`it was ${image.length} bytes when the upload began`);
  });

  it('never shows a password from the endpoint URL in an error', async () => {
    const mock = await startTestMock();
    const port = mock.port;
    await mock.close();
    const error = await clientFor(`http://user:hunter2@127.0.0.1:${port}/beia-api/v1/image`, { retries: 0 })
      .process(image)
      .catch((e: unknown) => e);
    expect((error as Error).message).not.toContain('hunter2');
  });
});

describe('abort and timeout', () => {
  it('abort through signal rejects with its reason and frees the server slot', async () => {
    const mock = await startTestMock();
    await mock.store.armFault({ type: 'latency', latencyMs: 5000, count: 1 });
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error('user gave up')), 200);
    await expect(clientFor(mock.endpoint).process(image, { signal: abort.signal })).rejects.toThrow('user gave up');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await mock.store.inFlight()).toBe(0);
    expect((await mock.store.getLicense('1234'))!.credits).toBe(100);
  });

  it('a timeout after sending is a BeiaTimeoutError and is not retried', async () => {
    const mock = await startTestMock();
    await mock.store.armFault({ type: 'latency', latencyMs: 3000, count: 1 });
    const error = await clientFor(mock.endpoint, { timeoutMs: 300, retries: 3 })
      .process(image)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BeiaTimeoutError);
    expect(error).toMatchObject({ requestSent: true, timeoutMs: 300, code: 'timeout' });
    await eventually(async () => (await mock.store.listJournal()).length > 0);
    expect((await mock.store.listJournal()).map((e) => e.status)).toEqual([499]);
  });
});

describe('processBatch', () => {
  it('20 images at concurrency 4 against a mock allowing 2: none lost, 20 credits spent', async () => {
    const mock = await startTestMock({ processing: { delayMs: 30, retryAfterSeconds: 0 } });
    const client = clientFor(mock.endpoint, { maxConcurrent: 4, retries: 50, retryBaseDelayMs: 10, retryMaxDelayMs: 100 });
    const items = await Promise.all(Array.from({ length: 20 }, async (_, i) => ({ id: `img-${i}`, input: await jpeg(40 + i, 30) })));
    const written = new Map<string, Uint8Array>();
    const summary = await processBatch(client, items, { concurrency: 4, onResult: (item, { result }) => void written.set(item.id, result) });
    expect(summary.failed).toEqual([]);
    expect(summary.processed.sort()).toEqual(items.map((i) => i.id).sort());
    expect(written.size).toBe(20);
    expect(summary.creditsRemaining).toBe(80);
    const statuses = (await mock.store.listJournal()).map((e) => e.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
    expect(statuses.some((s) => s === 429)).toBe(true);
  });

  it('stops starting new images after a 402, and says which were not started', async () => {
    const mock = await startTestMock({ licenses: [{ licenseId: '1234', apiKey: '5678', credits: 3 }] });
    const items = Array.from({ length: 8 }, (_, i) => ({ id: `img-${i}`, input: image }));
    const summary = await processBatch(clientFor(mock.endpoint), items, { concurrency: 1 });
    expect(summary.processed).toHaveLength(3);
    expect(summary.failed.map((f) => f.id)).toEqual(['img-3']);
    expect(summary.stoppedBy).toBeInstanceOf(NoCreditsError);
    expect(summary.notStarted).toEqual(['img-4', 'img-5', 'img-6', 'img-7']);
    expect(summary.creditsRemaining).toBe(0);
  });
});

describe('BeiaError instanceof across two copies of the package', () => {
  it('holds for an error made by another copy of the module', async () => {
    // A second copy of the built contract, as a second install of the package would have.
    const dir = await mkdtemp(join(tmpdir(), 'beia-copy-'));
    for (const file of ['api-errors.js', 'api-errors.js.map', 'error-catalogue.js', 'error-catalogue.js.map'])
      await copyFile(join(REPO, 'dist/contract', file), join(dir, file));
    const copy = (await import(/* @vite-ignore */ pathToFileURL(join(dir, 'api-errors.js')).href)) as typeof ApiErrorsModule;
    expect(copy.NoCreditsError).not.toBe(NoCreditsError);
    const foreign = copy.errorFromAnswer({ status: 402, headers: {}, body: '' });
    expect(foreign).toBeInstanceOf(NoCreditsError);
    expect(foreign).toBeInstanceOf(BeiaApiError);
    expect(foreign).not.toBeInstanceOf(InvalidLicenseError);
    expect(new NoCreditsError({ status: 402 })).toBeInstanceOf(copy.BeiaError);
    expect(new Error('plain')).not.toBeInstanceOf(BeiaError);
  });
});

describe('a fault that charges, then loses the answer (phase "after")', () => {
  it.each(['reset', 'truncate'] as const)('%s after the charge: the client reports it and does not pay twice; one credit is gone', async (type) => {
    const mock = await startTestMock();
    const admin = new MockAdminClient(mock.url);
    await admin.armFault({ type, phase: 'after', count: 1, licenseId: '1234' });
    const client = clientFor(mock.endpoint, { retries: 3 });

    const lost = await client.process(image).catch((e: unknown) => e);
    expect(lost).toBeInstanceOf(BeiaNetworkError);
    expect(lost).toMatchObject({ requestSent: true });
    expect((lost as Error).message).toMatch(/may have been processed and charged; check Credits-Remaining/);
    // Sent once, charged once: the client did not retry on its own.
    const journal = await admin.journal({ licenseId: '1234' });
    expect(journal).toHaveLength(1);
    expect(journal[0]).toMatchObject({ fault: type, charged: true, answerLost: true });
    expect((await admin.license('1234')).credits).toBe(99);
    // Its next call tells the caller where it stands.
    expect((await client.process(image)).creditsRemaining).toBe(98);
    await admin.verify({ licenseId: '1234' }, { exactly: 2 });
  });

  it('can be asked for by the request itself: X-Beia-Mock-Scenario: reset; phase=after', async () => {
    const mock = await startTestMock();
    const admin = new MockAdminClient(mock.url);
    const lost = await clientFor(mock.endpoint, { retries: 3, dispatcher: scenario('reset; phase=after') })
      .process(image)
      .catch((e: unknown) => e);
    expect(lost).toMatchObject({ name: 'BeiaNetworkError', requestSent: true });
    const journal = await admin.journal({ licenseId: '1234' });
    expect(journal).toHaveLength(1);
    expect(journal[0]).toMatchObject({ status: 444, fault: 'reset', charged: true, answerLost: true, scenario: 'reset; phase=after' });
    expect((await admin.license('1234')).credits).toBe(99);
    // Before the charge (the default phase), the same reset spends nothing; the checks still run first.
    await clientFor(mock.endpoint, { retries: 0, dispatcher: scenario('reset') })
      .process(image)
      .catch(() => {});
    expect((await admin.license('1234')).credits).toBe(99);
    const refused = await clientFor(mock.endpoint, { apiKey: 'wrong', dispatcher: scenario('reset; phase=after') })
      .process(image)
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InvalidLicenseError);
  });

  it('is refused for a fault that does not lose the answer, naming the field', async () => {
    const mock = await startTestMock();
    const admin = new MockAdminClient(mock.url);
    await expect(admin.armFault({ type: 'error', phase: 'after' })).rejects.toThrow(/body\.phase.*reset, truncate or hang/);
    await expect(admin.armFault({ type: 'reset', phase: 'later' as 'after' })).rejects.toThrow(/body\.phase/);
  });
});
