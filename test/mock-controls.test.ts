import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { MOCK_VERSION, SCENARIOS } from '../src/mock/index.js';
import { errorCode, inProcessMock } from './helpers/app.js';
import { jpeg } from './helpers/images.js';

let image: Buffer;
beforeAll(async () => {
  image = await jpeg();
});

describe('X-Beia-Mock-Scenario', () => {
  it.each(SCENARIOS)('forces %s without touching credits', async (status) => {
    const mock = inProcessMock();
    const res = await mock.postImage({ image }, { headers: { 'X-Beia-Mock-Scenario': status } });
    expect(res.status).toBe(Number(status));
    expect(await mock.credits()).toBe(100);
    if (status === '429') expect(res.headers.get('retry-after')).toBe('1');
    const tellsCredits = ['402', '415', '429', '500'].includes(status);
    expect(res.headers.get('credits-remaining')).toBe(tellsCredits ? (status === '402' ? '0' : '100') : null);
  });

  it('tells the credits only to an address the license allows', async () => {
    const res = await inProcessMock().postImage({ image }, { headers: { 'X-Beia-Mock-Scenario': '415' }, peerAddress: '192.0.2.1' });
    expect(res.status).toBe(415);
    expect(res.headers.get('credits-remaining')).toBeNull();
  });

  it('answers an unknown value with a 400 that lists the allowed ones', async () => {
    const res = await inProcessMock().postImage({ image }, { headers: { 'X-Beia-Mock-Scenario': '418' } });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('invalid_scenario');
    expect(body.error.message).toContain('allowed values are 400, 401, 402, 403, 415, 429, 500');
  });

  it('asks for a fault on this request only, after the checks: latency; ms=N', async () => {
    const mock = inProcessMock();
    const started = performance.now();
    const slow = await mock.postImage({ image }, { headers: { 'X-Beia-Mock-Scenario': 'latency; ms=250' } });
    expect(slow.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(240);
    expect(await mock.credits()).toBe(99);
    const refused = await mock.postImage({ image, apiKey: 'wrong' }, { headers: { 'X-Beia-Mock-Scenario': 'latency; ms=250' } });
    expect(refused.status).toBe(401);
  });

  it.each([
    ['latency', 'latency needs its time'],
    ['latency; ms=fast', '"ms=fast" is not a parameter of latency'],
    ['reset; phase=soon', '"phase=soon" is not a parameter of reset'],
    ['hang; ms=5', '"ms=5" is not a parameter of hang'],
  ])('refuses the fault scenario %j with a 400 that says why and lists the allowed values', async (value, why) => {
    const res = await inProcessMock().postImage({ image }, { headers: { 'X-Beia-Mock-Scenario': value } });
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('invalid_scenario');
    expect(error.message).toContain(why);
    expect(error.message).toContain('reset, truncate or hang');
  });

  it('is ignored when rules.scenarioHeader is off', async () => {
    const res = await inProcessMock({ rules: { scenarioHeader: false } }).postImage({ image }, { headers: { 'X-Beia-Mock-Scenario': '500' } });
    expect(res.status).toBe(200);
  });
});

describe('the mock says what it is', () => {
  it('names its version on every answer: image, error, admin, unknown route', async () => {
    const mock = inProcessMock();
    const answers = [
      await mock.postImage({ image }),
      await mock.postImage({ image, apiKey: 'bad' }),
      await mock.admin('GET', '/health'),
      await mock.app.request('/nowhere'),
    ];
    for (const res of answers) expect(res.headers.get('x-beia-mock-version')).toBe(MOCK_VERSION);
  });

  it('answers an unknown admin route with a 404 that lists the routes', async () => {
    const res = await inProcessMock().admin('GET', '/nothing-here');
    expect(res.status).toBe(404);
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('admin_not_found');
    expect(error.message).toContain('No admin route GET /__admin/nothing-here. Routes: /ui (the dashboard), /health');
  });

  it("answers a browser's favicon request with nothing, and keeps it out of the journal", async () => {
    const mock = inProcessMock();
    expect((await mock.app.request('/favicon.ico')).status).toBe(204);
    expect(await (await mock.admin('GET', '/journal')).json()).toEqual([]);
  });

  it('has a health endpoint', async () => {
    const res = await inProcessMock().admin('GET', '/health');
    expect(await res.json()).toEqual({
      status: 'ok',
      version: MOCK_VERSION,
      node: process.version,
      uptimeSeconds: expect.any(Number),
      store: { kind: 'memory', status: 'ok' },
      inFlight: 0,
      uploads: { receiving: 0, bufferedBytes: 0 },
      cache: { entries: 0, bytes: 0, maxBytes: 64 * 1024 * 1024, hits: 0, misses: 0 },
    });
  });
});

describe('admin API: licenses', () => {
  it('reads licenses without their keys', async () => {
    const res = await inProcessMock().admin('GET', '/licenses/1234');
    expect(await res.json()).toEqual({ licenseId: '1234', apiKey: '***', credits: 100, allowedIps: ['127.0.0.1', '::1'], maxConcurrent: 2, inFlight: 0 });
  });

  it('changes credits, allowlist and concurrency, and the image route obeys', async () => {
    const mock = inProcessMock();
    await mock.admin('PATCH', '/licenses/1234', { credits: 0 });
    expect((await mock.postImage({ image })).status).toBe(402);
    await mock.admin('PATCH', '/licenses/1234', { credits: 5, allowedIps: ['192.0.2.0/24'] });
    expect((await mock.postImage({ image })).status).toBe(403);
    expect((await mock.postImage({ image }, { peerAddress: '192.0.2.9' })).status).toBe(200);
    await mock.admin('PATCH', '/licenses/1234', { maxConcurrent: 0 });
    expect((await mock.postImage({ image }, { peerAddress: '192.0.2.9' })).status).toBe(429);
  });

  it('refuses a bad change naming the field', async () => {
    const mock = inProcessMock();
    const res = await mock.admin('PATCH', '/licenses/1234', { credits: 'lots' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
      'body.credits: expected an integer from 0 to 9007199254740991, got string "lots".',
    );
    expect((await mock.admin('PATCH', '/licenses/1234', { allowedIps: ['nope'] })).status).toBe(400);
    expect((await mock.admin('PATCH', '/licenses/1234', { licenseId: '9' })).status).toBe(400);
    expect((await mock.admin('PATCH', '/licenses/9999', { credits: 1 })).status).toBe(404);
    expect(await mock.credits()).toBe(100);
  });

  it('adds a license with PUT, which then works', async () => {
    const mock = inProcessMock();
    const put = await mock.admin('PUT', '/licenses/777', { apiKey: 'secret', credits: 2, allowedIps: ['127.0.0.1'] });
    expect(put.status).toBe(200);
    const res = await mock.postImage({ image, licenseId: '777', apiKey: 'secret' }, { headers: { 'License-Id': '777' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('credits-remaining')).toBe('1');
  });

  it('resets licenses, journal and faults to the config', async () => {
    const mock = inProcessMock();
    await mock.postImage({ image });
    await mock.admin('POST', '/faults', { type: 'error', count: 5 });
    await mock.admin('POST', '/reset');
    expect(await mock.credits()).toBe(100);
    expect(await (await mock.admin('GET', '/journal')).json()).toEqual([]);
    expect(await (await mock.admin('GET', '/faults')).json()).toEqual([]);
  });
});

describe('admin API: journal', () => {
  it('records each request: status, license, parts with sizes, types and sha256, never the API key', async () => {
    const mock = inProcessMock();
    await mock.postImage({ image, apiKey: 'wrong-key-value' });
    await mock.postImage({ image, includeCroppedImage: 'true' });
    const journal = (await (await mock.admin('GET', '/journal')).json()) as Array<Record<string, unknown>>;
    expect(journal.map((e) => [e.status, e.code, e.licenseId])).toEqual([
      [401, 'invalid_license', '1234'],
      [200, undefined, '1234'],
    ]);
    const parts = journal[1]!.parts as Array<Record<string, unknown>>;
    expect(parts.map((p) => p.name)).toEqual(['licenseId', 'apiKey', 'image', 'includeCroppedImage']);
    expect(parts[2]).toEqual({
      name: 'image',
      kind: 'file',
      size: image.length,
      contentType: 'application/octet-stream',
      filename: '001.jpg',
      sha256: createHash('sha256').update(image).digest('hex'),
    });
    expect(parts[1]).toEqual({ name: 'apiKey', kind: 'field', size: 4 });
    expect(JSON.stringify(journal)).not.toContain('wrong-key-value');
    expect(JSON.stringify(journal)).not.toContain('5678');
  });

  it('keeps no trace of an API key sent as a file or under another case, not even a hash', async () => {
    const mock = inProcessMock();
    const secret = 'the-secret-key-0042';
    const form = new FormData();
    form.append('licenseId', '1234');
    form.append('apiKey', new Blob([secret]), 'key.txt');
    form.append('APIKEY', secret);
    form.append('image', new Blob([new Uint8Array(image)]), 'a.jpg');
    await mock.post(form);
    const text = JSON.stringify(await (await mock.admin('GET', '/journal')).json());
    expect(text).not.toContain(secret);
    expect(text).not.toContain(createHash('sha256').update(secret).digest('hex'));
    expect(text).toContain('"name":"apiKey","kind":"file","size":19');
  });

  it('keeps only journal.maxEntries, filters by license and limit, and clears', async () => {
    const mock = inProcessMock({ journal: { maxEntries: 2 } });
    for (let i = 0; i < 3; i++) await mock.postImage({ image, apiKey: 'bad' });
    expect(await (await mock.admin('GET', '/journal')).json()).toHaveLength(2);
    expect(await (await mock.admin('GET', '/journal?limit=1')).json()).toHaveLength(1);
    expect(await (await mock.admin('GET', '/journal?licenseId=other')).json()).toHaveLength(0);
    expect((await mock.admin('GET', '/journal?limit=-1')).status).toBe(400);
    await mock.admin('DELETE', '/journal');
    expect(await (await mock.admin('GET', '/journal')).json()).toHaveLength(0);
  });
});

describe('admin API: faults', () => {
  it('arms a counted 500 for one license only', async () => {
    const mock = inProcessMock();
    await mock.admin('PUT', '/licenses/2', { apiKey: 'k', credits: 10, allowedIps: ['127.0.0.1'] });
    const armed = await mock.admin('POST', '/faults', { type: 'error', licenseId: '1234', count: 2 });
    expect(armed.status).toBe(201);
    expect((await mock.postImage({ image, licenseId: '2', apiKey: 'k' }, { headers: { 'License-Id': '2' } })).status).toBe(200);
    expect((await mock.postImage({ image })).status).toBe(500);
    expect((await mock.postImage({ image })).status).toBe(500);
    expect((await mock.postImage({ image })).status).toBe(200);
    const journal = (await (await mock.admin('GET', '/journal')).json()) as Array<{ fault?: string }>;
    expect(journal.map((e) => e.fault)).toEqual([undefined, 'error', 'error', undefined]);
  });

  it('fires a fault of probability 1 every time and one of probability 0 never', async () => {
    const mock = inProcessMock();
    const { id } = (await (await mock.admin('POST', '/faults', { type: 'error', probability: 0 })).json()) as { id: string };
    expect((await mock.postImage({ image })).status).toBe(200);
    await mock.admin('DELETE', `/faults/${id}`);
    await mock.admin('POST', '/faults', { type: 'error', probability: 1 });
    expect((await mock.postImage({ image })).status).toBe(500);
    expect((await mock.postImage({ image })).status).toBe(500);
  });

  it('adds latency before answering normally', async () => {
    const mock = inProcessMock();
    await mock.admin('POST', '/faults', { type: 'latency', latencyMs: 300 });
    const started = performance.now();
    const res = await mock.postImage({ image });
    expect(res.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('lists and removes faults, and refuses bad ones with the reason', async () => {
    const mock = inProcessMock();
    const { id } = (await (await mock.admin('POST', '/faults', { type: 'reset', probability: 0.1 })).json()) as { id: string };
    const [listed] = (await (await mock.admin('GET', '/faults')).json()) as { seed: number }[];
    expect(listed).toEqual({ type: 'reset', probability: 0.1, id, fired: 0, seed: expect.any(Number) as number, rng: expect.any(Number) as number });
    expect((await mock.admin('DELETE', `/faults/${id}`)).status).toBe(200);
    expect((await mock.admin('DELETE', `/faults/${id}`)).status).toBe(404);
    const bad = await mock.admin('POST', '/faults', { type: 'explode' });
    expect(bad.status).toBe(400);
    expect(await errorCode(bad)).toBe('admin_invalid_request');
    expect((await mock.admin('POST', '/faults', { type: 'latency' })).status).toBe(400);
    expect((await mock.admin('POST', '/faults', { type: 'error', count: 1, probability: 0.5 })).status).toBe(400);
    expect((await mock.admin('POST', '/faults', 'not json')).status).toBe(400);
  });

  it('refuses a bad chaos mix or seed with a 400 that names the field and the allowed values', async () => {
    const mock = inProcessMock();
    const refused = async (body: unknown, path: string, allowed: string) => {
      const res = await mock.admin('POST', '/faults', body);
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe('admin_invalid_request');
      expect(error.message).toContain(path);
      expect(error.message).toContain(allowed);
    };
    await refused({ type: 'error', probability: 1.5 }, 'body.probability', 'a number from 0 to 1');
    await refused({ type: 'error', probability: 0.5, seed: 4.2 }, 'body.seed', 'an integer from 0 to 2147483645');
    await refused({ type: 'error', probability: 0.5, seed: '42' }, 'body.seed', 'an integer');
    await refused({ type: 'error', count: 2, seed: 1 }, 'body.seed', 'nothing unless the fault has a probability');
    await refused({ chaos: { probability: 0.2, types: ['500', 'boom'] } }, 'body.chaos.types[1]', '"reset"');
    await refused({ chaos: { probability: 0.2, types: [] } }, 'body.chaos.types', 'a list of different kinds');
    await refused({ chaos: { probability: 0.2, types: ['latency'] } }, 'body.chaos.latencyMs', 'an integer');
    await refused({ chaos: { probability: 2, types: ['500'] } }, 'body.chaos.probability', 'from 0 to 1');
    await refused({ chaos: { probability: 0.2, types: ['500'], colour: 'red' } }, 'body.chaos.colour', 'one of the known keys');
    await refused({ chaos: { types: ['reset', 'error'], phase: 'after' } }, 'body.chaos.phase', 'reset, truncate or hang only');
    await refused({ type: 'error', types: ['reset'] }, 'body.types', 'nothing unless type is "chaos"');
    expect(await (await mock.admin('GET', '/faults')).json()).toEqual([]);
  });

  it('replays a seeded chaos mix exactly: the same seed gives the same answers twice', async () => {
    const mock = inProcessMock();
    const run = async (body: unknown) => {
      await mock.admin('POST', '/reset');
      const armed = (await (await mock.admin('POST', '/faults', body)).json()) as { seed: number; types: string[] };
      const statuses = [];
      for (let i = 0; i < 16; i++) statuses.push((await mock.postImage({ image })).status);
      const journal = (await (await mock.admin('GET', '/journal')).json()) as { fault?: string }[];
      return { armed, statuses, faults: journal.map((entry) => entry.fault ?? '-') };
    };
    const first = await run({ chaos: { probability: 0.5, types: ['500', 'latency'], latencyMs: 1, seed: 42 } });
    expect(first.armed).toMatchObject({ type: 'chaos', types: ['error', 'latency'], seed: 42 });
    expect(first.faults).toContain('error');
    expect(first.faults).toContain('latency');
    expect(first.faults).toContain('-');
    expect(first.statuses).toEqual(first.faults.map((fault) => (fault === 'error' ? 500 : 200)));
    const again = await run({ type: 'chaos', probability: 0.5, types: ['error', 'latency'], latencyMs: 1, seed: 42 });
    expect(again.faults).toEqual(first.faults);
    const unseeded = await run({ chaos: { probability: 0.5, types: ['500', 'latency'], latencyMs: 1 } });
    const replay = await run({ chaos: { probability: 0.5, types: ['500', 'latency'], latencyMs: 1, seed: unseeded.armed.seed } });
    expect(replay.faults).toEqual(unseeded.faults);
  });

  it('says a transport fault needs a real socket when run in-process', async () => {
    const mock = inProcessMock();
    await mock.admin('POST', '/faults', { type: 'reset' });
    const res = await mock.postImage({ image });
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('needs a connection to break');
    expect(await mock.credits()).toBe(100);
  });
});

describe('admin API and web pages', () => {
  it('refuses a request a web page sends (another Origin), with or without a token', async () => {
    const mock = inProcessMock();
    const res = await mock.admin('POST', '/reset', undefined, { Origin: 'https://evil.example' });
    expect(res.status).toBe(403);
    expect(await errorCode(res)).toBe('admin_cross_origin');
    expect((await mock.admin('GET', '/licenses', undefined, { Origin: 'http://localhost' })).status).toBe(200);
    // Its own page behind a TLS proxy: https outside, http inside, the same host.
    expect((await mock.admin('POST', '/reset', undefined, { Origin: 'https://localhost' })).status).toBe(200);
    expect((await mock.admin('POST', '/reset', undefined, { Origin: 'null' })).status).toBe(403);
    expect((await mock.admin('POST', '/reset', undefined, { Origin: 'http://localhost.evil.example' })).status).toBe(403);
  });
});

describe('admin token', () => {
  it('is required by every admin route but health when set', async () => {
    const mock = inProcessMock({}, { adminToken: 's3cret' });
    expect((await mock.admin('GET', '/health')).status).toBe(200);
    const denied = await mock.admin('GET', '/licenses');
    expect(denied.status).toBe(401);
    expect(await errorCode(denied)).toBe('admin_unauthorized');
    expect((await mock.admin('GET', '/licenses', undefined, { Authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await mock.admin('GET', '/licenses', undefined, { Authorization: 'Bearer s3cret' })).status).toBe(200);
    expect((await mock.admin('GET', '/licenses', undefined, { 'X-Beia-Admin-Token': 's3cret' })).status).toBe(200);
  });
});

describe('admin API: a license of its own for each test', () => {
  it('POST /licenses makes one with a fresh id and key, which works at once and shows its key only then', async () => {
    const mock = inProcessMock();
    const res = await mock.admin('POST', '/licenses', { credits: 2, ttlSeconds: 60 });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { licenseId: string; apiKey: string; credits: number; expiresAt: string; maxConcurrent: number };
    expect(created.licenseId).toMatch(/^t-[0-9a-f]{16}$/);
    expect(created.apiKey).toMatch(/^[0-9a-f]{32}$/);
    expect(created).toMatchObject({ credits: 2, maxConcurrent: 2, allowedIps: ['127.0.0.1', '::1'], inFlight: 0 });
    const ttl = Date.parse(created.expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(60_000);

    const image = await jpeg();
    const ok = await mock.postImage({ image, licenseId: created.licenseId, apiKey: created.apiKey }, { headers: { 'License-Id': created.licenseId } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('credits-remaining')).toBe('1');
    expect(await mock.credits()).toBe(100); // the default license is untouched
    const listed = (await (await mock.admin('GET', `/licenses/${created.licenseId}`)).json()) as { apiKey: string; expiresAt: string };
    expect(listed).toMatchObject({ apiKey: '***', expiresAt: created.expiresAt });
  });

  it('takes every default from an empty body, and refuses a bad setting with its path', async () => {
    const mock = inProcessMock();
    const created = await mock.app.request('/__admin/licenses', { method: 'POST' });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ credits: 100, maxConcurrent: 2 });
    for (const body of [{ ttlSeconds: 0 }, { credits: -1 }, { licenseId: 'mine' }, { allowedIps: ['not an ip'] }]) {
      const res = await mock.admin('POST', '/licenses', body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/body\./);
    }
  });

  it('DELETE /licenses/:id removes it and its journal entries; its key then gets a 401', async () => {
    const mock = inProcessMock();
    const { licenseId, apiKey } = (await (await mock.admin('POST', '/licenses', {})).json()) as { licenseId: string; apiKey: string };
    const image = await jpeg();
    expect((await mock.postImage({ image, licenseId, apiKey }, { headers: { 'License-Id': licenseId } })).status).toBe(200);
    expect(((await (await mock.admin('GET', `/journal?licenseId=${licenseId}`)).json()) as unknown[]).length).toBe(1);
    expect(await (await mock.admin('DELETE', `/licenses/${licenseId}`)).json()).toEqual({ deleted: licenseId });
    expect(((await (await mock.admin('GET', `/journal?licenseId=${licenseId}`)).json()) as unknown[]).length).toBe(0);
    expect((await mock.postImage({ image, licenseId, apiKey }, { headers: { 'License-Id': licenseId } })).status).toBe(401);
    expect((await mock.admin('DELETE', `/licenses/${licenseId}`)).status).toBe(404);
  });
});

describe('admin API: metrics', () => {
  async function metricsText(mock: ReturnType<typeof inProcessMock>, headers: Record<string, string> = {}): Promise<string> {
    const res = await mock.admin('GET', '/metrics', undefined, headers);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.text();
  }
  const value = (text: string, series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };

  it('counts requests by status and license, credits spent, the cache, and what is in processing', async () => {
    const mock = inProcessMock();
    const image = await jpeg();
    expect((await mock.postImage({ image })).status).toBe(200);
    expect((await mock.postImage({ image })).status).toBe(200);
    expect((await mock.postImage({ image, apiKey: 'wrong' })).status).toBe(401);
    const text = await metricsText(mock);
    expect(value(text, 'beia_mock_requests_total{route="image",status="200",license="1234"}')).toBe(2);
    // Only a proven license labels a series: a wrong key is counted without one.
    expect(value(text, 'beia_mock_requests_total{route="image",status="401",license=""}')).toBe(1);
    expect(value(text, 'beia_mock_credits_spent_total{license="1234"}')).toBe(2);
    expect(value(text, 'beia_mock_result_cache_hits_total')).toBe(1);
    expect(value(text, 'beia_mock_result_cache_misses_total')).toBe(1);
    expect(value(text, 'beia_mock_images_in_processing')).toBe(0);
    expect(value(text, 'beia_mock_request_duration_seconds_count{route="image",status_class="2xx"}')).toBe(2);
    expect(text).not.toMatch(/process_cpu/); // Node's own metrics only for a process that is a mock
    // Scraped again, the cache counters do not count twice.
    expect(value(await metricsText(mock), 'beia_mock_result_cache_hits_total')).toBe(1);
  });

  it('made-up license ids add no series, and a reset drops the series of licenses it removed', async () => {
    const mock = inProcessMock();
    const image = await jpeg();
    for (let i = 0; i < 20; i++) await mock.postImage({ image, licenseId: `junk-${i}` }, { headers: { 'License-Id': `junk-${i}` } });
    const text = await metricsText(mock);
    expect(text).not.toContain('junk-');
    expect(value(text, 'beia_mock_requests_total{route="image",status="401",license=""}')).toBe(20);

    const { licenseId, apiKey } = (await (await mock.admin('POST', '/licenses', {})).json()) as { licenseId: string; apiKey: string };
    await mock.postImage({ image, licenseId, apiKey }, { headers: { 'License-Id': licenseId } });
    expect(await metricsText(mock)).toContain(licenseId);
    await mock.admin('POST', '/reset');
    expect(await metricsText(mock)).not.toContain(licenseId);
  });

  it('forgets the series of a deleted license', async () => {
    const mock = inProcessMock();
    const { licenseId, apiKey } = (await (await mock.admin('POST', '/licenses', {})).json()) as { licenseId: string; apiKey: string };
    expect((await mock.postImage({ image: await jpeg(), licenseId, apiKey }, { headers: { 'License-Id': licenseId } })).status).toBe(200);
    expect(await metricsText(mock)).toContain(`license="${licenseId}"`);
    await mock.admin('DELETE', `/licenses/${licenseId}`);
    expect(await metricsText(mock)).not.toContain(licenseId);
  });

  it('needs the admin token when one is set, and adds Node’s process metrics when asked', async () => {
    const mock = inProcessMock({}, { adminToken: 'secret', processMetrics: true });
    expect((await mock.admin('GET', '/metrics')).status).toBe(401);
    expect(await metricsText(mock, { Authorization: 'Bearer secret' })).toMatch(/^beia_mock_process_cpu_user_seconds_total /m);
  });
});

describe('retry discipline', () => {
  it('flags a request sent before the Retry-After of the 429 its license and address got, and not one after', async () => {
    const mock = inProcessMock({ processing: { retryAfterSeconds: 1 } });
    const image = await jpeg();
    const before429 = Date.now();
    const busy = await mock.postImage({ image }, { headers: { 'X-Beia-Mock-Scenario': '429' } });
    expect(busy.headers.get('retry-after')).toBe('1');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await mock.postImage({ image })).status).toBe(200); // 100 ms after a Retry-After: 1
    const afterRetry = Date.now();
    expect((await mock.postImage({ image }, { peerAddress: '127.0.0.9' })).status).toBe(403); // another client: not its 429
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await mock.postImage({ image })).status).toBe(200); // after it

    const flagged = (await (await mock.admin('GET', '/journal?retryTooEarly=true')).json()) as { status: number; retryTooEarly: boolean; earlyByMs: number }[];
    expect(flagged).toHaveLength(1);
    expect(flagged[0]).toMatchObject({ status: 200, retryTooEarly: true });
    // Early by the second minus what passed between the two, which a busy machine stretches:
    // at least 100 ms, at most the time from sending the 429's request to the retry's answer.
    expect(flagged[0]!.earlyByMs).toBeGreaterThanOrEqual(1000 - (afterRetry - before429));
    expect(flagged[0]!.earlyByMs).toBeLessThanOrEqual(900);
    expect((await mock.admin('GET', '/journal?retryTooEarly=yes')).status).toBe(400);
  });
});

describe('Prefer: code=STATUS (RFC 7240), as Prism users send it', () => {
  it('forces the status like X-Beia-Mock-Scenario, touching nothing', async () => {
    const mock = inProcessMock();
    const res = await mock.postImage({ image: await jpeg() }, { headers: { Prefer: 'code=429' } });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/^Forced by Prefer: code=429\. Too many images/);
    expect(await mock.credits()).toBe(100);
    const journal = (await (await mock.admin('GET', '/journal')).json()) as { scenario: string; status: number }[];
    expect(journal[0]).toMatchObject({ status: 429, scenario: 'Prefer: code=429' });
  });

  it.each(['code=418', 'respond-async', 'return=minimal, code=402', 'code=402, code=500'])(
    'refuses "%s" with a 400 that names what it knows',
    async (value) => {
      const res = await inProcessMock().postImage({ image: await jpeg() }, { headers: { Prefer: value } });
      expect(res.status).toBe(400);
      expect(await errorCode(res)).toBe('invalid_scenario');
    },
  );
});
