import { connect } from 'node:net';
import { Agent } from 'undici';
import { beforeAll, describe, expect, it } from 'vitest';
import { rawForm } from './helpers/forms.js';
import { jpeg, pngBomb } from './helpers/images.js';
import { eventually, sendImage, startTestMock } from './helpers/server.js';

let image: Buffer;
beforeAll(async () => {
  image = await jpeg(200, 150);
});

describe('the allowlist, from a real socket (D8)', () => {
  it('answers 403 to a source address that is not allowed, 200 to one that is', async () => {
    const mock = await startTestMock({ licenses: [{ licenseId: '1234', apiKey: '5678', allowedIps: ['127.0.0.1'] }] });
    const fromOther = new Agent({ localAddress: '127.0.0.2' });
    try {
      const denied = await sendImage(mock.endpoint, image, { dispatcher: fromOther });
      expect(denied.status).toBe(403);
      expect(JSON.parse(denied.body.toString()).error.message).toContain('not accepted from 127.0.0.2');
      expect(denied.headers['credits-remaining']).toBeUndefined();
    } finally {
      await fromOther.close();
    }
    expect((await sendImage(mock.endpoint, image)).status).toBe(200);
  });

  it('answers 403 from the headers alone, without waiting for the body (M1)', async () => {
    const mock = await startTestMock({ licenses: [{ licenseId: '1234', apiKey: '5678', allowedIps: ['127.0.0.1'] }] });
    const socket = connect({ port: mock.port, host: '127.0.0.1', localAddress: '127.0.0.2' });
    socket.on('error', () => {});
    const firstBytes = new Promise<string>((resolve) => socket.once('data', (chunk) => resolve(chunk.toString())));
    // Announce a 10 MB upload and send none of it.
    socket.write(
      'POST /beia-api/v1/image HTTP/1.1\r\nHost: x\r\nLicense-Id: 1234\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 10000000\r\n\r\n',
    );
    expect(await firstBytes).toMatch(/^HTTP\/1\.1 403/);
    socket.destroy();
  });

  it('ignores X-Forwarded-For unless the peer is a trusted proxy', async () => {
    const licenses = [{ licenseId: '1234', apiKey: '5678', allowedIps: ['198.51.100.7'] }];
    const untrusted = await startTestMock({ licenses });
    expect((await sendImage(untrusted.endpoint, image, { headers: { 'X-Forwarded-For': '198.51.100.7' } })).status).toBe(403);

    const behindProxy = await startTestMock({ licenses, network: { trustedProxies: ['127.0.0.1'] } });
    expect((await sendImage(behindProxy.endpoint, image, { headers: { 'X-Forwarded-For': '198.51.100.7' } })).status).toBe(200);
    // A hop the proxy did not vouch for is the client: a forged left-most entry does not help.
    expect((await sendImage(behindProxy.endpoint, image, { headers: { 'X-Forwarded-For': '198.51.100.7, 203.0.113.50' } })).status).toBe(403);
  });
});

describe('credits under a race (M2)', () => {
  it('N credits and 10N parallel requests give exactly N 200s; the rest 402 at zero, or 429 while the last credits are held', async () => {
    const credits = 6;
    const mock = await startTestMock({
      licenses: [{ licenseId: '1234', apiKey: '5678', credits, maxConcurrent: 1000 }],
      processing: { delayMs: 10, jitterMs: 20, maxConcurrent: 1000 },
    });
    const results = await Promise.all(Array.from({ length: credits * 10 }, () => sendImage(mock.endpoint, image)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(credits);
    const refused = results.filter((r) => r.status !== 200);
    expect(refused.every((r) => r.status === 402 || r.status === 429)).toBe(true);
    // A 402 is only ever said at zero credits; a 429 says the credits left are all in processing.
    expect(refused.filter((r) => r.status === 402).every((r) => r.headers['credits-remaining'] === '0')).toBe(true);
    expect(refused.filter((r) => r.status === 429).every((r) => r.headers['retry-after'] === '1')).toBe(true);
    const remaining = results
      .filter((r) => r.status === 200)
      .map((r) => Number(r.headers['credits-remaining']))
      .sort();
    expect(remaining).toEqual([0, 1, 2, 3, 4, 5]);
    expect((await mock.store.getLicense('1234'))!.credits).toBe(0);
    expect(await mock.store.inFlight()).toBe(0);
  });

  it('with the default limit of 2 at a time, the rest are 429 and no credit is lost', async () => {
    const mock = await startTestMock({ processing: { delayMs: 200 } });
    const results = await Promise.all(Array.from({ length: 10 }, () => sendImage(mock.endpoint, image)));
    const ok = results.filter((r) => r.status === 200).length;
    const busy = results.filter((r) => r.status === 429);
    expect(ok).toBeGreaterThanOrEqual(2);
    expect(ok + busy.length).toBe(10);
    expect(busy.every((r) => r.headers['retry-after'] === '1')).toBe(true);
    expect((await mock.store.getLicense('1234'))!.credits).toBe(100 - ok);
  });
});

describe('admin changes while images are in processing', () => {
  it('a reset keeps the requests in flight: they finish with a 200 and spend from the reset credits', async () => {
    // A processing time from the config, not a fault: the reset clears faults, not the config.
    const mock = await startTestMock({ licenses: [{ licenseId: '1234', apiKey: '5678', maxConcurrent: 1 }], processing: { delayMs: 500 } });
    await mock.store.updateLicense('1234', { credits: 7 });
    const slow = sendImage(mock.endpoint, image);
    await eventually(async () => (await mock.store.inFlight()) === 1);
    await fetch(`${mock.url}/__admin/reset`, { method: 'POST' });
    expect((await mock.store.getLicense('1234'))!.inFlight).toBe(1);
    expect((await sendImage(mock.endpoint, image)).status).toBe(429);
    const done = await slow;
    expect(done.status).toBe(200);
    expect(done.headers['credits-remaining']).toBe('99');
  });
});

describe('a client that goes away spends nothing and frees its slot at once (M7)', () => {
  it('during the upload', async () => {
    const mock = await startTestMock({ licenses: [{ licenseId: '1234', apiKey: '5678', maxConcurrent: 1 }] });
    const { body, contentType } = rawForm([
      { name: 'licenseId', value: '1234' },
      { name: 'apiKey', value: '5678' },
      { name: 'image', filename: 'a.jpg', data: image },
    ]);
    const socket = connect(mock.port, '127.0.0.1');
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`POST /beia-api/v1/image HTTP/1.1\r\nHost: x\r\nLicense-Id: 1234\r\nContent-Type: ${contentType}\r\nContent-Length: ${body.length}\r\n\r\n`);
    socket.write(body.subarray(0, body.length / 2));
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.destroy();
    await eventually(async () => (await mock.store.listJournal()).some((e) => e.status === 499));
    expect(await mock.store.inFlight()).toBe(0);
    const next = await sendImage(mock.endpoint, image);
    expect(next.status).toBe(200);
    expect(next.headers['credits-remaining']).toBe('99');
  });

  it('during processing', async () => {
    const mock = await startTestMock({ licenses: [{ licenseId: '1234', apiKey: '5678', maxConcurrent: 1 }] });
    await mock.store.armFault({ type: 'latency', latencyMs: 10_000, count: 1 });
    const abort = new AbortController();
    const slow = sendImage(mock.endpoint, image, { signal: abort.signal }).catch((error: Error) => error);
    await eventually(async () => (await mock.store.inFlight()) === 1);
    abort.abort();
    expect(await slow).toBeInstanceOf(Error);
    await eventually(async () => (await mock.store.inFlight()) === 0, 1_000);
    const next = await sendImage(mock.endpoint, image);
    expect(next.status).toBe(200);
    expect(next.headers['credits-remaining']).toBe('99');
    const journal = await mock.store.listJournal();
    expect(journal.map((e) => e.status)).toEqual([499, 200]);
  });
});

describe('bad input on the wire: a clear 4xx, nothing spent, the server keeps serving (M10)', () => {
  it('a body shorter than the form: 400 malformed_multipart', async () => {
    const mock = await startTestMock();
    const { body, contentType } = rawForm([
      { name: 'licenseId', value: '1234' },
      { name: 'image', filename: 'a.jpg', data: image },
    ]);
    const res = await fetch(mock.endpoint, {
      method: 'POST',
      body: new Uint8Array(body.subarray(0, 300)),
      headers: { 'Content-Type': contentType, 'License-Id': '1234' },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('malformed_multipart');
  });

  it('a part without a name: 400 malformed_multipart, and the process lives on (found by the fuzz test: it crashed the mock)', async () => {
    const mock = await startTestMock();
    for (const disposition of ['form-data; filename="a.jpg"', 'form-data', 'form-data; name=""']) {
      const body = Buffer.from(`--b\r\nContent-Disposition: ${disposition}\r\nContent-Type: application/octet-stream\r\n\r\nxyz\r\n--b--\r\n`);
      const res = await fetch(mock.endpoint, { method: 'POST', body, headers: { 'License-Id': '1234', 'Content-Type': 'multipart/form-data; boundary=b' } });
      expect(res.status, disposition).toBe(400);
      expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({
        code: 'malformed_multipart',
        message: expect.stringContaining('A form part has no name'),
      });
    }
    expect((await sendImage(mock.endpoint, image)).status).toBe(200);
  });

  it('an upload over the limit: 413, and the server keeps serving', async () => {
    const mock = await startTestMock({ limits: { maxUploadBytes: 100_000 } });
    const res = await sendImage(mock.endpoint, Buffer.alloc(3_000_000, 7));
    expect(res.status).toBe(413);
    expect((await sendImage(mock.endpoint, image)).status).toBe(200);
  });

  it('a pixel bomb: 415 image_too_large, refused from its header', async () => {
    const mock = await startTestMock();
    const res = await sendImage(mock.endpoint, pngBomb(200_000, 200_000));
    expect(res.status).toBe(415);
    expect(JSON.parse(res.body.toString()).error.code).toBe('image_too_large');
  });

  it('uploads beyond limits.maxConcurrentUploads are a 429 at once; the place frees when the upload ends', async () => {
    const mock = await startTestMock({ limits: { maxConcurrentUploads: 1 } });
    const socket = connect(mock.port, '127.0.0.1');
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      'POST /beia-api/v1/image HTTP/1.1\r\nHost: x\r\nLicense-Id: 1234\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n--b\r\n',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const refused = await sendImage(mock.endpoint, image);
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(JSON.parse(refused.body.toString()).error.message).toContain('limits.maxConcurrentUploads');
    socket.destroy();
    await eventually(async () => (await mock.store.listJournal()).some((e) => e.status === 499));
    expect((await sendImage(mock.endpoint, image)).status).toBe(200);
  });

  it('a slow sender: 408 after limits.requestTimeoutMs, and the next request is served', async () => {
    const mock = await startTestMock({ limits: { requestTimeoutMs: 500 } });
    const socket = connect(mock.port, '127.0.0.1');
    socket.on('error', () => {});
    const answer = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('close', () => resolve(text));
    });
    socket.write(
      'POST /beia-api/v1/image HTTP/1.1\r\nHost: x\r\nLicense-Id: 1234\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n--b\r\n',
    );
    const text = await answer;
    expect(text).toMatch(/^HTTP\/1\.1 408/);
    expect(text).toContain('"code":"request_timeout"');
    expect(await mock.store.inFlight()).toBe(0);
    expect((await sendImage(mock.endpoint, image)).status).toBe(200);
  });
});

describe('nothing leaks', () => {
  it('after 120 bad, aborted and good requests: no slot held, no connection left, credits exact', async () => {
    const mock = await startTestMock({ limits: { maxUploadBytes: 50_000 } });
    const bad: Array<() => Promise<unknown>> = [
      () => sendImage(mock.endpoint, Buffer.from('not an image')),
      () => sendImage(mock.endpoint, pngBomb()),
      () => sendImage(mock.endpoint, Buffer.alloc(200_000, 1)),
      () => sendImage(mock.endpoint, image, { apiKey: 'wrong' }),
      () => fetch(mock.endpoint, { method: 'POST', body: 'x', headers: { 'License-Id': '1234', 'Content-Type': 'text/plain' } }),
      () => sendImage(mock.endpoint, image, { signal: AbortSignal.timeout(1) }).catch(() => undefined),
      () => sendImage(mock.endpoint, image),
    ];
    let sent = 0;
    while (sent < 120) {
      await Promise.all(bad.map((send) => send()));
      sent += bad.length;
    }
    await eventually(async () => (await mock.store.inFlight()) === 0);
    const journal = await mock.store.listJournal();
    const ok = journal.filter((e) => e.status === 200).length;
    expect((await mock.store.getLicense('1234'))!.credits).toBe(100 - ok);
    expect(ok).toBeGreaterThan(0);
    // Two slots for seven requests at a time: some good ones meet a 429, none meets anything else.
    expect(new Set(journal.map((e) => e.status))).toSatisfy((statuses: Set<number>) =>
      [...statuses].every((s) => [200, 400, 401, 413, 415, 429, 499].includes(s)),
    );
    // Clients let go of their keep-alive sockets; the server must hold none of its own.
    const { setGlobalDispatcher, Agent: UndiciAgent, getGlobalDispatcher } = await import('undici');
    const previous = getGlobalDispatcher();
    await previous.close();
    setGlobalDispatcher(new UndiciAgent());
    await eventually(() => new Promise<boolean>((resolve) => mock.server.getConnections((_error, count) => resolve(count === 0))), 8_000);
  });
});

describe('transport faults need a real socket', () => {
  it('reset: the connection is reset, nothing spent', async () => {
    const mock = await startTestMock();
    await mock.store.armFault({ type: 'reset', count: 1 });
    await expect(sendImage(mock.endpoint, image)).rejects.toMatchObject({ code: expect.stringMatching(/ECONNRESET|UND_ERR_SOCKET/) });
    expect((await mock.store.getLicense('1234'))!.credits).toBe(100);
    await eventually(async () => (await mock.store.listJournal()).length === 1);
    expect(await mock.store.listJournal()).toMatchObject([{ status: 444, fault: 'reset' }]);
    expect((await sendImage(mock.endpoint, image)).status).toBe(200);
  });

  it('truncate: headers and half the body, then the connection drops', async () => {
    const mock = await startTestMock();
    await mock.store.armFault({ type: 'truncate', count: 1 });
    const res = await fetch(mock.endpoint, {
      method: 'POST',
      body: (() => {
        const form = new FormData();
        form.append('licenseId', '1234');
        form.append('apiKey', '5678');
        form.append('image', new Blob([new Uint8Array(image)]), 'a.jpg');
        return form;
      })(),
      headers: { 'License-Id': '1234' },
    });
    expect(res.status).toBe(200);
    await expect(res.arrayBuffer()).rejects.toThrow();
    expect((await mock.store.getLicense('1234'))!.credits).toBe(100);
  });

  it('hang: no answer until the client gives up, then the slot is free and nothing spent', async () => {
    const mock = await startTestMock();
    await mock.store.armFault({ type: 'hang', count: 1 });
    await expect(sendImage(mock.endpoint, image, { signal: AbortSignal.timeout(300) })).rejects.toThrow();
    await eventually(async () => (await mock.store.inFlight()) === 0, 1_000);
    expect((await mock.store.getLicense('1234'))!.credits).toBe(100);
    await eventually(async () => (await mock.store.listJournal()).length === 1);
    expect(await mock.store.listJournal()).toMatchObject([{ status: 499, fault: 'hang' }]);
  });
});

describe('graceful shutdown', () => {
  it('finishes the request in flight, then refuses new connections', async () => {
    const mock = await startTestMock();
    await mock.store.armFault({ type: 'latency', latencyMs: 400, count: 1 });
    const inFlight = sendImage(mock.endpoint, image);
    await eventually(async () => (await mock.store.inFlight()) === 1);
    const closed = mock.close();
    expect((await inFlight).status).toBe(200);
    await closed;
    await expect(sendImage(mock.endpoint, image)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('ends a hanging fault at once instead of waiting for it', async () => {
    const mock = await startTestMock({}, { shutdownGraceMs: 20_000 });
    await mock.store.armFault({ type: 'hang', count: 1 });
    const hanging = sendImage(mock.endpoint, image).catch((error: Error) => error);
    await eventually(async () => (await mock.store.inFlight()) === 1);
    const started = Date.now();
    await mock.close();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await hanging).toBeInstanceOf(Error);
  });
});
