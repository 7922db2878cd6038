import { Readable } from 'node:stream';
import { request } from 'undici';
import { beforeAll, describe, expect, it } from 'vitest';
import { STATE_JOURNAL_BYTES } from '../src/mock/admin/dashboard.js';
import { errorCode, inProcessMock } from './helpers/app.js';
import { jpeg } from './helpers/images.js';
import { sendImage, startTestMock } from './helpers/server.js';

// Issue 18: nothing a web page, an image or a request body does may take over, stall or bloat a
// shared mock (docs/security.md).

let image: Buffer;
beforeAll(async () => {
  image = await jpeg();
});

/** A 304-byte SVG that asks librsvg for a 7000x7000 turbulence under three blurs: half a minute of one core. */
const SVG_BOMB = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="7000" height="7000"><filter id="f"><feTurbulence baseFrequency="0.9" numOctaves="10"/><feGaussianBlur stdDeviation="40"/><feGaussianBlur stdDeviation="40"/><feGaussianBlur stdDeviation="40"/></filter><rect width="100%" height="100%" filter="url(#f)"/></svg>',
);

async function admin(url: string, method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', path: string, headers: Record<string, string>, body?: unknown) {
  const res = await request(`${url}/__admin${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.body.text();
  return { status: res.statusCode, text, code: (JSON.parse(text || '{}') as { error?: { code?: string } }).error?.code };
}

describe('the admin API without a token answers loopback and allowed names only (DNS rebinding)', () => {
  const calls: ['GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', string, unknown?][] = [
    ['PATCH', '/licenses/1234', { credits: 7 }],
    ['POST', '/licenses', {}],
    ['PUT', '/licenses/evil', { apiKey: 'k', credits: 5 }],
    ['POST', '/faults', { type: 'error' }],
    ['POST', '/reset'],
    ['DELETE', '/journal'],
    ['GET', '/journal'],
    ['GET', '/licenses'],
    ['GET', '/metrics'],
    ['GET', '/ui/state'],
    ['GET', '/ui'],
  ];

  it.each(calls)('refuses %s %s to a rebound name, and changes nothing', async (method, path, body) => {
    const mock = await startTestMock();
    const host = `rebind.example:${mock.port}`;
    const answer = await admin(mock.url, method, path, { host, origin: `http://${host}` }, body);
    expect(answer.status).toBe(403);
    expect(answer.code).toBe('admin_host_not_allowed');
    expect(answer.text).toContain('admin.allowedHosts');
    expect(answer.text).not.toContain('apiKey');
    expect((await mock.store.getLicense('1234'))?.credits).toBe(100);
    expect(await mock.store.getLicense('evil')).toBeUndefined();
    expect(await mock.store.listFaults()).toEqual([]);
  });

  it('refuses a page on another name even when it calls 127.0.0.1 (Origin)', async () => {
    const mock = await startTestMock();
    const answer = await admin(mock.url, 'PATCH', '/licenses/1234', { origin: 'http://rebind.example' }, { credits: 7 });
    expect([answer.status, answer.code]).toEqual([403, 'admin_host_not_allowed']);
    expect((await mock.store.getLicense('1234'))?.credits).toBe(100);
  });

  it.each(['localhost', '127.0.0.1', '127.0.0.9', '[::1]', 'LOCALHOST', 'app.localhost', 'mock.staging.example'])('serves Host %s', async (name) => {
    const mock = await startTestMock({ admin: { allowedHosts: ['mock.staging.example'] } });
    const answer = await admin(mock.url, 'PATCH', '/licenses/1234', { host: `${name}:${mock.port}` }, { credits: 7 });
    expect(answer.status).toBe(200);
    expect((await mock.store.getLicense('1234'))?.credits).toBe(7);
  });

  it('still checks the token, not the Host, when a token is set (a proxy in front)', async () => {
    const mock = await startTestMock({}, { adminToken: 'secret-token' });
    const host = `mock.behind-a-proxy.example:${mock.port}`;
    expect((await admin(mock.url, 'PATCH', '/licenses/1234', { host }, { credits: 7 })).code).toBe('admin_unauthorized');
    const withToken = await admin(mock.url, 'PATCH', '/licenses/1234', { host, authorization: 'Bearer secret-token' }, { credits: 7 });
    expect(withToken.status).toBe(200);
  });

  it('leaves health and the OpenAPI document open, and in-process calls (no socket) allowed', async () => {
    const mock = await startTestMock();
    expect((await admin(mock.url, 'GET', '/health', { host: 'rebind.example' })).status).toBe(200);
    const inProcess = inProcessMock();
    const res = await inProcess.app.request('http://beia-mock.invalid/__admin/licenses/1234', {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: '{"credits":3}',
    });
    expect(res.status).toBe(200);
  });
});

describe('images the mock does not understand fast are refused before rendering', () => {
  it('refuses an SVG by default, at once, spending nothing', async () => {
    const mock = inProcessMock();
    const started = performance.now();
    const res = await mock.postImage({ image: SVG_BOMB });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(res.status).toBe(415);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('unsupported_file');
    expect(body.error.message).toContain('images.formats');
    expect(await mock.credits()).toBe(100);
  });

  it('answers a small JPEG at once while two abandoned SVG bombs are in flight', async () => {
    const mock = await startTestMock({ licenses: [{ licenseId: '1234', apiKey: '5678', maxConcurrent: 4 }] });
    const bombs = [0, 1].map(() => sendImage(mock.endpoint, SVG_BOMB, { signal: AbortSignal.timeout(3_000) }).catch((error: unknown) => error));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = performance.now();
    const answer = await sendImage(mock.endpoint, image);
    expect(answer.status).toBe(200);
    expect(performance.now() - started).toBeLessThan(5_000);
    await Promise.all(bombs);
  });

  it('stops a render past images.renderTimeoutSeconds: 415 image_too_slow, nothing spent, the render place freed', async () => {
    const mock = await startTestMock({
      licenses: [{ licenseId: '1234', apiKey: '5678', maxConcurrent: 4 }],
      images: { formats: ['jpeg', 'svg'], renderTimeoutSeconds: 1 },
    });
    const cpuBefore = process.cpuUsage();
    const bombs = await Promise.all([0, 1].map(() => sendImage(mock.endpoint, SVG_BOMB)));
    for (const bomb of bombs) {
      expect(bomb.status).toBe(415);
      expect(JSON.parse(bomb.body.toString()).error, bomb.body.toString()).toMatchObject({ code: 'image_too_slow' });
    }
    // libvips checks the bound between pieces of work, so a render stops a few seconds past it:
    // far less work than the two take unbounded. Counted in CPU time (this process's: the mock and
    // libvips' threads), which a busy machine does not stretch as it stretches the clock: measured
    // on 2 cores, 9 s bounded and 24 s unbounded, whatever the load; bounded, the clock said 33 s
    // under a load of 10.
    const cpu = process.cpuUsage(cpuBefore);
    expect((cpu.user + cpu.system) / 1000).toBeLessThan(15_000);
    expect((await mock.store.getLicense('1234'))?.credits).toBe(100);
    expect((await sendImage(mock.endpoint, image)).status).toBe(200);
  }, 90_000);
});

describe('every admin input is bounded', () => {
  it('refuses a body over admin.maxBodyBytes with a 413, given its Content-Length', async () => {
    const mock = await startTestMock();
    const answer = await admin(mock.url, 'PATCH', '/licenses/1234', {}, { credits: 7, pad: 'x'.repeat(2 * 1024 * 1024) });
    expect([answer.status, answer.code]).toEqual([413, 'admin_payload_too_large']);
    expect(answer.text).toContain('admin.maxBodyBytes (1048576 bytes)');
  });

  it('refuses a chunked body as it passes the limit, without reading the rest', async () => {
    const mock = await startTestMock();
    let sent = 0;
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    // At most 200 MiB, so the loop ends by itself; a mock that reads it all would take it all.
    async function* body() {
      for (let i = 0; i < 3200; i++) {
        sent += chunk.length;
        yield chunk;
      }
    }
    const outcome = await request(`${mock.url}/__admin/licenses/1234`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: Readable.from(body()),
    })
      .then(async (res) => ({ status: res.statusCode, code: (JSON.parse(await res.body.text()) as { error: { code: string } }).error.code }))
      .catch((error: unknown) => ({ error }));
    if ('status' in outcome) expect(outcome).toEqual({ status: 413, code: 'admin_payload_too_large' });
    expect(sent).toBeLessThan(32 * 1024 * 1024);
  });

  it('caps the licenses at admin.maxLicenses with a 429 that names the setting', async () => {
    const mock = inProcessMock({ admin: { maxLicenses: 3 } });
    expect((await mock.admin('POST', '/licenses', {})).status).toBe(201);
    expect((await mock.admin('PUT', '/licenses/two', { apiKey: 'k' })).status).toBe(200);
    const refused = await mock.admin('POST', '/licenses', {});
    expect(refused.status).toBe(429);
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('too_many_licenses');
    expect(body.error.message).toContain('admin.maxLicenses');
    expect(await errorCode(await mock.admin('PUT', '/licenses/three', { apiKey: 'k' }))).toBe('too_many_licenses');
    // Replacing one that exists is no new license; deleting one makes room.
    expect((await mock.admin('PUT', '/licenses/two', { apiKey: 'k2' })).status).toBe(200);
    expect((await mock.admin('DELETE', '/licenses/two')).status).toBe(200);
    expect((await mock.admin('POST', '/licenses', {})).status).toBe(201);
  });

  it('pages the licenses and the journal with limit and offset, still as arrays', async () => {
    const mock = inProcessMock();
    for (const id of ['a', 'b', 'c']) await mock.admin('PUT', `/licenses/${id}`, { apiKey: 'k' });
    const ids = async (path: string) => ((await (await mock.admin('GET', path)).json()) as { licenseId: string }[]).map((l) => l.licenseId);
    expect(await ids('/licenses')).toEqual(['1234', 'a', 'b', 'c']);
    expect(await ids('/licenses?limit=2')).toEqual(['1234', 'a']);
    expect(await ids('/licenses?limit=2&offset=2')).toEqual(['b', 'c']);
    for (let i = 0; i < 5; i++) await mock.postImage({ image }, { headers: { 'X-Request-Id': String(i) } });
    const statuses = async (path: string) => ((await (await mock.admin('GET', path)).json()) as { seq: number }[]).map((e) => e.seq);
    const all = await statuses('/journal');
    expect(all).toHaveLength(5);
    expect(await statuses('/journal?limit=2')).toEqual(all.slice(3));
    expect(await statuses('/journal?limit=2&offset=2')).toEqual(all.slice(1, 3));
    expect(await statuses('/journal?offset=5')).toEqual([]);
    expect(await errorCode(await mock.admin('GET', '/journal?offset=-1'))).toBe('admin_invalid_request');
    expect(await errorCode(await mock.admin('GET', '/licenses?limit=lots'))).toBe('admin_invalid_request');
  });

  it('keeps one dashboard poll small: at most 200 licenses and 256 KiB of journal rows, the rest counted', async () => {
    const mock = inProcessMock({ admin: { maxLicenses: 400 }, journal: { maxEntries: 2000 } });
    for (let i = 0; i < 300; i++) await mock.store.putLicense({ licenseId: `l${i}`, apiKey: 'k', credits: 1, allowedIps: ['127.0.0.1'], maxConcurrent: 1 });
    for (let i = 0; i < 600; i++) await mock.postImage({ image, apiKey: 'wrong' }, { headers: { 'X-Padding': 'p'.repeat(200) } });
    const res = await mock.admin('GET', '/ui/state?limit=1000');
    const text = await res.text();
    const state = JSON.parse(text) as { licenses: unknown[]; licensesTotal: number; journal: unknown[]; journalOmitted: number };
    expect(state.licenses).toHaveLength(200);
    expect(state.licensesTotal).toBe(301);
    expect(state.journalOmitted).toBeGreaterThan(0);
    expect(state.journal.length + state.journalOmitted).toBe(600);
    expect(Buffer.byteLength(JSON.stringify(state.journal))).toBeLessThanOrEqual(STATE_JOURNAL_BYTES);
    expect(Buffer.byteLength(text)).toBeLessThan(400 * 1024);
  }, 30_000);
});

describe('one bound for every held answer: faults.maxHangMs', () => {
  it('refuses a scenario latency over it, and an armed latency fault over it', async () => {
    const mock = inProcessMock({ faults: { maxHangMs: 5_000 } });
    const res = await mock.postImage({ image }, { headers: { 'X-Beia-Mock-Scenario': 'latency; ms=86400000' } });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('invalid_scenario');
    expect(body.error.message).toContain('faults.maxHangMs (5000 ms)');
    expect(await errorCode(await mock.admin('POST', '/faults', { type: 'latency', latencyMs: 5_001 }))).toBe('admin_invalid_request');
    expect((await mock.admin('POST', '/faults', { type: 'latency', latencyMs: 5_000 })).status).toBe(201);
  });
});
