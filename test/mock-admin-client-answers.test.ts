import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockAdminClient, MockAdminError } from '../src/mock/light.js';

// Issue 21: MockAdminClient checks the shape of each answer it returns instead of casting it. A
// server that answers a 200 with something else is a MockAdminError naming the route and what
// was wrong, never a value of the wrong type handed to the test.

const license = { licenseId: 'L', apiKey: '***', credits: 3, allowedIps: ['127.0.0.1'], maxConcurrent: 2, inFlight: 0 };
const entry = { seq: 1, time: '2026-12-06T05:00:00.000Z', method: 'POST', path: '/beia-api/v1/image', status: 200, durationMs: 3, parts: [] };
const health = {
  status: 'ok',
  version: '0.1.0',
  node: 'v20.19.0',
  store: { kind: 'memory', status: 'ok' },
  inFlight: 0,
  uploads: { receiving: 0, bufferedBytes: 0 },
  cache: { entries: 0, bytes: 0, maxBytes: 1, hits: 0, misses: 0 },
};

/** What the fake server answers, by "METHOD /path" (query left out); changed by each test. */
let answers: Record<string, { status?: number; body: unknown }> = {};
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const answer = answers[`${req.method} ${new URL(req.url ?? '/', 'http://x').pathname}`];
    req.resume();
    if (!answer) {
      res.writeHead(404).end();
      return;
    }
    const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    res.writeHead(answer.status ?? 200, { 'content-type': typeof answer.body === 'string' ? 'text/html' : 'application/json' }).end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => {
  server.close();
});

async function refusal(call: (admin: MockAdminClient) => Promise<unknown>): Promise<MockAdminError> {
  const error = await call(new MockAdminClient(url)).then(
    (value) => new Error(`expected a MockAdminError, got ${JSON.stringify(value)}`),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MockAdminError);
  return error as MockAdminError;
}

describe('MockAdminClient, an answer of the wrong shape', () => {
  it('takes the answers of a beia mock as they are', async () => {
    answers = {
      'GET /__admin/health': { body: health },
      'GET /__admin/licenses': { body: [license] },
      'GET /__admin/licenses/L': { body: license },
      'POST /__admin/licenses': { status: 201, body: { ...license, apiKey: 'secret', expiresAt: '2026-12-06T06:00:00.000Z' } },
      'GET /__admin/journal': { body: [entry, { ...entry, seq: 2, status: 402, code: 'no_credits', cacheHit: false }] },
      'POST /__admin/faults': { status: 201, body: { id: 'f1', type: 'error', count: 1, fired: 0 } },
      'POST /__admin/verify': {
        body: { ok: true, count: 1, expected: 'exactly 1', nearMisses: [{ entry, differences: [{ field: 'status', expected: 402, actual: 200 }] }] },
      },
      'POST /__admin/reset': { body: { reset: true, licenses: [license] } },
      'DELETE /__admin/journal': { body: { cleared: true } },
    };
    const admin = new MockAdminClient(url);
    expect(await admin.health()).toEqual(health);
    expect(await admin.licenses()).toEqual([license]);
    expect((await admin.createLicense()).expiresAt).toBe('2026-12-06T06:00:00.000Z');
    expect(await admin.journal()).toHaveLength(2);
    expect((await admin.armFault({ type: 'error' })).id).toBe('f1');
    expect((await admin.verify({}, { exactly: 1 })).count).toBe(1);
    expect((await admin.reset()).licenses).toEqual([license]);
    expect(await admin.clearJournal()).toEqual({ cleared: true });
  });

  it.each<[string, string, { status?: number; body: unknown }, (admin: MockAdminClient) => Promise<unknown>, string]>([
    [
      'health',
      'GET /__admin/health',
      { body: { ...health, version: undefined } },
      (a) => a.health(),
      'not the health of a beia mock: "version" is not a string',
    ],
    ['health as a web page', 'GET /__admin/health', { body: '<html>hello</html>' }, (a) => a.health(), 'it is not JSON ("<html>hello</html>")'],
    [
      'licenses',
      'GET /__admin/licenses',
      { body: [license, { ...license, credits: -1 }] },
      (a) => a.licenses(),
      'not a list of licenses: [1]: "credits" is not a whole number of at least 0',
    ],
    [
      'a license',
      'GET /__admin/licenses/L',
      { body: { ...license, allowedIps: '127.0.0.1' } },
      (a) => a.license('L'),
      'not a license: "allowedIps" is not a list of strings',
    ],
    [
      'a created license',
      'POST /__admin/licenses',
      { status: 201, body: license },
      (a) => a.createLicense(),
      'not a license made for a test: "expiresAt" is not an ISO time',
    ],
    [
      'credits set',
      'PATCH /__admin/licenses/L',
      { body: { updated: true } },
      (a) => a.setCredits('L', 1),
      'not a license: "licenseId" is not a non-empty string',
    ],
    [
      'the journal',
      'GET /__admin/journal',
      { body: [entry, { ...entry, seq: 2, status: '402' }] },
      (a) => a.journal(),
      'not a list of journal entries: [1]: "status" is not an HTTP status',
    ],
    ['the journal as an object', 'GET /__admin/journal', { body: { entries: [entry] } }, (a) => a.journal(), 'not a list of journal entries: it is not a list'],
    [
      'faults',
      'GET /__admin/faults',
      { body: [{ id: 'f1', type: 'error' }] },
      (a) => a.faults(),
      'not a list of armed faults: [0]: "fired" is not a whole number of at least 0',
    ],
    [
      'an armed fault',
      'POST /__admin/faults',
      { status: 201, body: { id: 'f1', type: 'error', fired: 0, phase: 'later' } },
      (a) => a.armFault({ type: 'error' }),
      'not an armed fault: "phase" is not "before" or "after"',
    ],
    [
      'verify',
      'POST /__admin/verify',
      { body: { ok: 'yes', count: 1, expected: 'exactly 1', nearMisses: [] } },
      (a) => a.verify({}, { exactly: 1 }),
      'not the result of a verification: "ok" is not true or false',
    ],
    [
      'verify, a near miss',
      'POST /__admin/verify',
      { body: { ok: false, count: 0, expected: 'exactly 1', nearMisses: [{ entry: { seq: 1 }, differences: [] }] } },
      (a) => a.verify({}, { exactly: 1 }),
      'not the result of a verification: "nearMisses"[0]: "entry": "time" is not a string',
    ],
    [
      'reset',
      'POST /__admin/reset',
      { body: { reset: true, licenses: [{}] } },
      (a) => a.reset(),
      'not the licenses after a reset: "licenses"[0]: "licenseId" is not a non-empty string',
    ],
    ['a deletion', 'DELETE /__admin/licenses/L', { body: {} }, (a) => a.deleteLicense('L'), 'not the license deleted: "deleted" is not the license id'],
    ['a clearing', 'DELETE /__admin/faults', { status: 204, body: '' }, (a) => a.clearFaults(), 'not the faults cleared: it is not JSON ("")'],
  ])('%s: a MockAdminError naming the route and what was wrong', async (_name, route, answer, call, problem) => {
    answers = { [route]: answer };
    const error = await refusal(call);
    const [method, path] = route.split(' ');
    expect(error).toMatchObject({ name: 'MockAdminError', code: 'admin_unexpected_answer', status: answer.status ?? 200 });
    expect(error.message).toContain(`The mock's admin API answered ${method} ${url}${path}`);
    expect(error.message).toContain(problem);
    expect(error.message).toContain(`GET ${url}/__admin/health names the version it runs.`);
  });

  it('leaves call() as it was: any JSON, unchecked, for routes of your own', async () => {
    answers = { 'GET /__admin/licenses': { body: { not: 'a list' } } };
    expect(await new MockAdminClient(url).call('GET', '/licenses')).toEqual({ not: 'a list' });
  });
});
