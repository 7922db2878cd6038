import net from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { FormData, fetch, request, stream } from 'undici';
import { BeiaClient, BeiaNetworkError, BeiaTimeoutError, InvalidLicenseError, IpNotAllowedError } from '../src/client/index.js';
import { ALL_CASES, runConformance, type Target } from '../src/conformance/index.js';
import { mockDispatcher, validateConfig, type MockDispatcher } from '../src/mock/index.js';
import { decode, jpeg } from './helpers/images.js';

let image: Buffer;
beforeAll(async () => {
  image = await jpeg(120, 80);
});

const open: MockDispatcher[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((mock) => mock.close()));
});

function inProcess(configOverrides: unknown = {}): MockDispatcher {
  const mock = mockDispatcher({ config: validateConfig(configOverrides) });
  open.push(mock);
  return mock;
}

function clientOf(mock: MockDispatcher, options: Partial<ConstructorParameters<typeof BeiaClient>[0]> = {}) {
  return new BeiaClient({ endpoint: mock.endpoint, licenseId: '1234', apiKey: '5678', dispatcher: mock, retryBaseDelayMs: 10, ...options });
}

function form(licenseId = '1234', apiKey = '5678'): FormData {
  const body = new FormData();
  body.append('licenseId', licenseId);
  body.append('apiKey', apiKey);
  body.append('image', new Blob([new Uint8Array(image)], { type: 'image/jpeg' }), '001.jpg');
  return body;
}

/** Fails the test if anything listens or connects while `run` runs: the proof that no port is used. */
async function withoutSockets<T>(run: () => Promise<T>): Promise<T> {
  const listen = vi.spyOn(net.Server.prototype, 'listen').mockImplementation(() => {
    throw new Error('a server tried to listen');
  });
  const connect = vi.spyOn(net.Socket.prototype, 'connect').mockImplementation(() => {
    throw new Error('a socket tried to connect');
  });
  try {
    return await run();
  } finally {
    expect(listen).not.toHaveBeenCalled();
    expect(connect).not.toHaveBeenCalled();
    listen.mockRestore();
    connect.mockRestore();
  }
}

describe('mockDispatcher(): the mock in-process for undici, without a socket', () => {
  it('answers BeiaClient with the PNG, the cropped image and the credits, and the journal and verify see the calls', async () => {
    const mock = inProcess();
    await withoutSockets(async () => {
      const client = clientOf(mock);
      const first = await client.process(image);
      expect(first.creditsRemaining).toBe(99);
      expect(await decode(first.result)).toMatchObject({ format: 'png', width: 120, height: 80 });
      const second = await client.process(image, { includeCroppedImage: true });
      expect(second.cropped).toBeDefined();
      expect(second.creditsRemaining).toBe(98);
      await expect(clientOf(mock, { apiKey: 'wrong' }).process(image)).rejects.toBeInstanceOf(InvalidLicenseError);
      await mock.admin.verify({ licenseId: '1234', status: 200 }, { exactly: 2 });
      await mock.admin.verify({ licenseId: '1234', status: 401 }, { exactly: 1 });
      expect((await mock.admin.license('1234')).credits).toBe(98);
    });
  });

  it('serves undici.request and fetch with undici FormData bodies, on any URL', async () => {
    const mock = inProcess();
    await withoutSockets(async () => {
      const res = await request('https://aws.beiatechnology.com/beia-api/v1/image', {
        method: 'POST',
        body: form(),
        headers: { 'License-Id': '1234' },
        dispatcher: mock,
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('image/png');
      expect(res.headers['credits-remaining']).toBe('99');
      expect((await decode(new Uint8Array(await res.body.arrayBuffer()))).format).toBe('png');

      const viaFetch = await fetch(mock.endpoint, { method: 'POST', body: form(), headers: { 'License-Id': '1234' }, dispatcher: mock });
      expect(viaFetch.status).toBe(200);
      expect(viaFetch.headers.get('credits-remaining')).toBe('98');
      expect((await decode(new Uint8Array(await viaFetch.arrayBuffer()))).width).toBe(120);

      const health = await fetch('http://anything/__admin/health', { dispatcher: mock });
      expect(((await health.json()) as { status: string }).status).toBe('ok');
    });
  });

  it('checks the allowlist against the address the caller poses as (from)', async () => {
    const mock = inProcess();
    const res = await request(mock.endpoint, { method: 'POST', body: form(), headers: { 'License-Id': '1234' }, dispatcher: mock.from('203.0.113.9') });
    expect(res.statusCode).toBe(403);
    await res.body.dump();
    await expect(clientOf(mock, { dispatcher: mock.from('198.51.100.7') }).process(image)).rejects.toBeInstanceOf(IpNotAllowedError);
    expect((await mock.admin.license('1234')).credits).toBe(100);
  });

  it.each(['reset', 'truncate'] as const)(
    'breaks the answer for a %s fault after the charge, as a socket would: the client does not pay twice',
    async (type) => {
      const mock = inProcess();
      await mock.admin.armFault({ type, phase: 'after', count: 1, licenseId: '1234' });
      const lost = await clientOf(mock, { retries: 3 })
        .process(image)
        .catch((e: unknown) => e);
      expect(lost).toBeInstanceOf(BeiaNetworkError);
      expect(lost).toMatchObject({ requestSent: true });
      expect(((lost as Error).cause as { code?: string }).code).toBe('UND_ERR_SOCKET');
      await mock.admin.verify({ licenseId: '1234' }, { exactly: 1 });
      expect((await mock.admin.journal({ licenseId: '1234' }))[0]).toMatchObject({ fault: type, charged: true, answerLost: true });
      expect((await clientOf(mock).process(image)).creditsRemaining).toBe(98);
    },
  );

  it('resets before the charge (the default phase): the client cannot tell, so it reports it; nothing was spent', async () => {
    const mock = inProcess();
    await mock.admin.armFault({ type: 'reset', count: 1 });
    const lost = await clientOf(mock, { retries: 2 })
      .process(image)
      .catch((e: unknown) => e);
    expect(lost).toMatchObject({ name: 'BeiaNetworkError', requestSent: true });
    expect((await mock.admin.journal())[0]).toMatchObject({ status: 444, fault: 'reset' });
    expect((await mock.admin.journal())[0]?.charged).toBeUndefined();
    expect((await clientOf(mock).process(image)).creditsRemaining).toBe(99);
  });

  it('holds a hang until the client gives up (a timeout), and spends nothing', async () => {
    const mock = inProcess();
    await mock.admin.armFault({ type: 'hang', count: 1 });
    const hung = await clientOf(mock, { retries: 0, timeoutMs: 300 })
      .process(image)
      .catch((e: unknown) => e);
    expect(hung).toBeInstanceOf(BeiaTimeoutError);
    expect((await mock.admin.license('1234')).credits).toBe(100);
    // The mock saw the client leave: 499, nothing spent.
    await vi.waitFor(async () => expect((await mock.admin.journal())[0]).toMatchObject({ status: 499, fault: 'hang' }));
  });

  it('ends a hanging request when it is closed', async () => {
    const mock = mockDispatcher();
    await mock.admin.armFault({ type: 'hang', count: 1 });
    const hung = clientOf(mock, { retries: 0, timeoutMs: 60_000 })
      .process(image)
      .catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = performance.now();
    await mock.close();
    expect(await hung).toBeInstanceOf(BeiaNetworkError);
    expect(performance.now() - started).toBeLessThan(5_000);
    await expect(request(mock.endpoint, { dispatcher: mock })).rejects.toThrow(/closed/i);
  });

  it('destroy() ends a request whose answer the caller never read, and close() one whose body never ends', async () => {
    const unread = mockDispatcher();
    const answer = await request(unread.endpoint, { method: 'POST', body: form(), headers: { 'License-Id': '1234' }, dispatcher: unread });
    expect(answer.statusCode).toBe(200); // the body is left unread
    await expect(Promise.race([unread.destroy().then(() => 'destroyed'), sleep(3_000).then(() => 'still pending')])).resolves.toBe('destroyed');

    const stalled = mockDispatcher();
    async function* neverEnds() {
      yield Buffer.from('--x\r\n');
      await new Promise(() => {});
    }
    const aborter = new AbortController();
    const sent = request(stalled.endpoint, { method: 'POST', body: Readable.from(neverEnds()), signal: aborter.signal, dispatcher: stalled }).catch(
      (e: unknown) => e,
    );
    setTimeout(() => aborter.abort(), 50);
    expect(await sent).toMatchObject({ name: 'AbortError' });
    await expect(Promise.race([stalled.close().then(() => 'closed'), sleep(3_000).then(() => 'still pending')])).resolves.toBe('closed');
  });

  it('gives the caller an error thrown in its own callback, never an unhandled rejection nor a hang', async () => {
    const mock = inProcess();
    const streamed = stream(mock.endpoint, { method: 'POST', body: form(), headers: { 'License-Id': '1234' }, dispatcher: mock }, () => {
      throw new Error('factory boom');
    });
    await expect(streamed).rejects.toThrow('factory boom');
    async function* breaks() {
      yield Buffer.from('abc');
      throw new Error('disk gone');
    }
    await expect(request(mock.endpoint, { method: 'POST', body: Readable.from(breaks()), dispatcher: mock })).rejects.toThrow('disk gone');
  });

  it("sends Node's own FormData too, which undici.request cannot send on a socket", async () => {
    const mock = inProcess();
    const body = new globalThis.FormData();
    body.set('licenseId', '1234');
    body.set('apiKey', '5678');
    body.set('image', new Blob([new Uint8Array(image)], { type: 'image/jpeg' }), '001.jpg');
    const res = await request(mock.endpoint, { method: 'POST', body: body as unknown as FormData, headers: { 'License-Id': '1234' }, dispatcher: mock });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
  });

  it('passes the conformance suite: every documented case and mock default, without opening a port', async () => {
    const mock = inProcess();
    const zero = { licenseId: 'zero', apiKey: 'zero-key' };
    await mock.admin.putLicense({ ...zero, credits: 0, allowedIps: ['127.0.0.1', '::1'] });
    const target: Target = {
      endpoint: mock.endpoint,
      kind: 'mock',
      credentials: { licenseId: '1234', apiKey: '5678' },
      zeroCreditLicense: zero,
      unlistedSourceAddress: '127.0.0.2',
      admin: mock.admin,
      dispatcher: (address) => (address ? mock.from(address) : mock),
    };
    const report = await withoutSockets(() => runConformance(target, ALL_CASES));
    const by = (status: string) => report.outcomes.filter((o) => o.status === status).map((o) => `${o.id}: ${o.message}`);
    expect(by('fail')).toEqual([]);
    expect(by('error')).toEqual([]);
    expect(by('skip')).toEqual([]);
    const documented = ALL_CASES.filter((c) => c.kind === 'documented').map((c) => c.id);
    expect(report.outcomes.filter((o) => o.status === 'pass').map((o) => o.id)).toEqual(expect.arrayContaining(documented));
  });
});
