import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { decodeMultipartMixed, encodeMultipartMixed, readImageBundle } from '../../src/contract/index.js';
import {
  ALL_CASES,
  applyProfile,
  compareObservations,
  consoleReport,
  htmlReport,
  jsonReport,
  junitReport,
  openTarget,
  runConformance,
  verdictOf,
  type RunReport,
  type Target,
} from '../../src/conformance/index.js';
import { MockAdminClient } from '../../src/mock/index.js';
import { deviantServer, type Answer } from '../helpers/deviant-proxy.js';
import { startTestMock } from '../helpers/server.js';

const ZERO = { licenseId: 'zero', apiKey: 'zero-key' };

/** A beia mock on a port, reached as a URL (so the mock's own defaults are only observed). */
async function mockAtUrl(configOverrides: Record<string, unknown> = {}) {
  const mock = await startTestMock({
    licenses: [
      { licenseId: '1234', apiKey: '5678', allowedIps: ['127.0.0.1', '::1'] },
      { licenseId: ZERO.licenseId, apiKey: ZERO.apiKey, credits: 0, allowedIps: ['127.0.0.1', '::1'] },
    ],
    // The deviant servers forward from 127.0.0.1 and name the client in X-Forwarded-For.
    network: { trustedProxies: ['127.0.0.1'] },
    ...configOverrides,
  });
  return mock;
}

function urlTarget(endpoint: string): Target {
  return { endpoint, kind: 'url', credentials: { licenseId: '1234', apiKey: '5678' }, zeroCreditLicense: ZERO, unlistedSourceAddress: '127.0.0.2' };
}

const ids = (report: RunReport, status: string) =>
  report.outcomes
    .filter((o) => o.status === status)
    .map((o) => o.id)
    .sort();

describe('against the faithful mock', () => {
  it('in-process (--target mock): every case passes, or is observed when it is an unknown', async () => {
    const { target, close } = await openTarget({ target: 'mock' });
    try {
      const report = await runConformance(target, ALL_CASES);
      expect(ids(report, 'fail')).toEqual([]);
      expect(ids(report, 'error')).toEqual([]);
      expect(ids(report, 'skip')).toEqual([]);
      expect(ids(report, 'observed')).toEqual(
        ALL_CASES.filter((c) => c.kind === 'unknown')
          .map((c) => c.id)
          .sort(),
      );
      expect(report.outcomes).toHaveLength(ALL_CASES.length);
    } finally {
      await close();
    }
  });

  it('at a URL: documented rules pass, the mock defaults are observed, not asserted', async () => {
    const mock = await mockAtUrl();
    const report = await runConformance(urlTarget(mock.endpoint), ALL_CASES);
    expect(ids(report, 'fail')).toEqual([]);
    expect(ids(report, 'error')).toEqual([]);
    expect(ids(report, 'pass')).toEqual(
      ALL_CASES.filter((c) => c.kind === 'documented' && !c.tags.needs.includes('admin-api'))
        .map((c) => c.id)
        .sort(),
    );
    expect(ids(report, 'skip')).toEqual(['D7-500-internal-error', 'M7-concurrency-limit']);
  });
});

/** Runs the suite against a mock behind a server that breaks one rule; returns the failed ids. */
async function failuresWith(answer: (a: Answer, req: { body: Buffer; resend: (b: Buffer) => Promise<Answer> }) => Promise<Answer> | Answer): Promise<string[]> {
  const mock = await mockAtUrl();
  const endpoint = await deviantServer(mock.endpoint, { answer });
  const report = await runConformance(urlTarget(endpoint), ALL_CASES);
  expect(ids(report, 'error')).toEqual([]);
  return ids(report, 'fail');
}

describe('against servers that break one documented rule: exactly the cases of that rule fail', () => {
  it('no Credits-Remaining at all (D6)', async () => {
    expect(
      await failuresWith((a) => {
        delete a.headers['credits-remaining'];
        return a;
      }),
    ).toEqual(['D6-credits-decrease', 'D6-credits-remaining-on-200']);
  });

  it('a 500 for a file that is not an image (D7)', async () => {
    expect(await failuresWith((a) => (a.status === 415 ? { ...a, status: 500 } : a))).toEqual(['D7-415-not-an-image']);
  });

  it('includeCroppedImage ignored: a single PNG instead of multipart/mixed (D5)', async () => {
    expect(
      await failuresWith((a) => {
        const type = a.headers['content-type'] ?? '';
        if (a.status !== 200 || !type.startsWith('multipart/mixed')) return a;
        const { result } = readImageBundle(decodeMultipartMixed(a.body, type));
        return { ...a, headers: { ...a.headers, 'content-type': 'image/png' }, body: Buffer.from(result) };
      }),
    ).toEqual(['D5-mixed-answer']);
  });

  it('a truncated PNG (D4): the header is fine, only a full decode notices', async () => {
    expect(
      await failuresWith((a) => (a.headers['content-type'] === 'image/png' ? { ...a, body: a.body.subarray(0, Math.floor(a.body.length / 2)) } : a)),
    ).toEqual(['D4-png-answer']);
  });

  it('a wrong key accepted (D7)', async () => {
    const keys: Record<string, string> = { '1234': '5678', [ZERO.licenseId]: ZERO.apiKey };
    expect(
      await failuresWith(async (a, req) => {
        if (a.status !== 401) return a;
        const text = req.body.toString('latin1');
        const licenseId = /name="licenseId"\r\n\r\n([^\r]*)/.exec(text)?.[1];
        const key = licenseId === undefined ? undefined : keys[licenseId];
        if (!key) return a;
        return req.resend(Buffer.from(text.replace(/(name="apiKey"\r\n\r\n)[^\r]*/, `$1${key}`), 'latin1'));
      }),
    ).toEqual(['D7-401-wrong-key']);
  });

  const field = (body: Buffer, name: string) => new RegExp(`name="${name}"\r\n\r\n([^\r]*)\r\n`).exec(body.toString('latin1'))?.[1];

  it('an empty apiKey accepted as if it were the right one (D2)', async () => {
    expect(
      await failuresWith((a, req) =>
        field(req.body, 'apiKey') === ''
          ? req.resend(Buffer.from(req.body.toString('latin1').replace('name="apiKey"\r\n\r\n\r\n', 'name="apiKey"\r\n\r\n5678\r\n'), 'latin1'))
          : a,
      ),
    ).toEqual(['D2-empty-api-key']);
  });

  it('an empty image file answered with a 500 (D2)', async () => {
    expect(
      await failuresWith((a, req) => (/filename="[^"]*"\r\nContent-Type: [^\r]*\r\n\r\n\r\n--/.test(req.body.toString('latin1')) ? { ...a, status: 500 } : a)),
    ).toEqual(['D2-empty-image']);
  });

  it('an unknown license answered with a 404, neither reading of the page (D7)', async () => {
    expect(await failuresWith((a, req) => (field(req.body, 'licenseId') === 'conformance-no-such-license' ? { ...a, status: 404 } : a))).toEqual([
      'D7-401-unknown-license',
    ]);
  });

  it('a JSON body answered with a 500 instead of a refusal (D1, D7)', async () => {
    expect(await failuresWith((a, req) => (req.body.toString('latin1').startsWith('{') ? { ...a, status: 500 } : a))).toEqual(['D7-400-wrong-content-type']);
  });

  it('a multipart/mixed answer whose credits part disagrees with its Credits-Remaining header (D5, D6)', async () => {
    expect(
      await failuresWith((a) => {
        const type = a.headers['content-type'] ?? '';
        if (a.status !== 200 || !type.startsWith('multipart/mixed')) return a;
        const parts = decodeMultipartMixed(a.body, type).map((part) => ({
          headers: Object.entries(part.headers),
          body: part.name === 'credits' ? Buffer.from(String(Number(Buffer.from(part.bytes).toString()) + 7)) : Buffer.from(part.bytes),
        }));
        const encoded = encodeMultipartMixed(parts);
        return { ...a, headers: { ...a.headers, 'content-type': encoded.contentType }, body: encoded.body };
      }),
    ).toEqual(['D5-credits-part-matches-header']);
  });

  it('a multipart/mixed part typed image/jpeg while it holds a PNG (D5)', async () => {
    expect(
      await failuresWith((a) => {
        const type = a.headers['content-type'] ?? '';
        if (a.status !== 200 || !type.startsWith('multipart/mixed')) return a;
        const parts = decodeMultipartMixed(a.body, type).map((part) => ({
          headers: Object.entries(part.headers).map(([name, value]): [string, string] => [
            name,
            name === 'content-type' && part.name === 'cropped' ? 'image/jpeg' : value,
          ]),
          body: Buffer.from(part.bytes),
        }));
        const encoded = encodeMultipartMixed(parts);
        return { ...a, headers: { ...a.headers, 'content-type': encoded.contentType }, body: encoded.body };
      }),
    ).toEqual(['D5-mixed-answer']);
  });

  it("the vendor's Node sample refused: its form-data boundary is not accepted (D9)", async () => {
    expect(await failuresWith((a, req) => (req.body.toString('latin1').startsWith('----------------------------1234') ? { ...a, status: 400 } : a))).toEqual([
      'D9-python-node-samples',
    ]);
  });
});

describe('against a server that keeps every documented rule but decides the rest differently', () => {
  it('nothing fails: plain-text errors, parts by Content-ID, credits as JSON, no Credits-Remaining on errors, another check order', async () => {
    const mock = await mockAtUrl({
      rules: {
        errorBody: 'text',
        partLabels: 'content-id',
        creditsPartFormat: 'json',
        creditsRemainingOnErrors: false,
        strictBooleans: false,
        requireLicenseHeader: false,
        checkOrder: ['ip-allowlist', 'content-type', 'form', 'license-header', 'credits', 'auth', 'image', 'slot'],
      },
      processing: { delayMs: 30 },
    });
    const report = await runConformance(urlTarget(mock.endpoint), ALL_CASES);
    expect(ids(report, 'fail')).toEqual([]);
    expect(ids(report, 'error')).toEqual([]);
    expect(report.observations).toMatchObject({
      errorBody: 'text',
      parts: { labelledBy: 'content-id', creditsFormat: 'json' },
      'licenseHeader.missing': 200,
      'order.auth-vs-credits': 402,
    });
  });
});

describe('against a server that checks the key first and says Credits-Remaining: 0 on every error', () => {
  it('nothing fails: another check order is a choice, and the header on errors is not read as credits', async () => {
    const mock = await mockAtUrl({ rules: { checkOrder: ['ip-allowlist', 'content-type', 'auth', 'form', 'license-header', 'credits', 'slot', 'image'] } });
    const endpoint = await deviantServer(mock.endpoint, {
      answer: (a) => (a.status >= 400 ? { ...a, headers: { ...a.headers, 'credits-remaining': '0' } } : a),
    });
    const report = await runConformance(urlTarget(endpoint), ALL_CASES, { budget: 40 });
    expect(ids(report, 'fail')).toEqual([]);
    expect(ids(report, 'error')).toEqual([]);
    expect(report.stopped).toBeUndefined();
    expect(report.outcomes.find((o) => o.id === 'D2-missing-api-key')).toMatchObject({
      status: 'observed',
      message: expect.stringContaining('refused with 401 rather than 400'),
    });
  });

  it('D2-missing-api-key says what it accepts (not "400" alone) and records the status the target chose', async () => {
    const c = ALL_CASES.find((candidate) => candidate.id === 'D2-missing-api-key')!;
    expect(c.title).toContain('a 400, or another 4xx when another check answers first');
    const keyFirst = await mockAtUrl({ rules: { checkOrder: ['ip-allowlist', 'content-type', 'auth', 'form', 'license-header', 'credits', 'slot', 'image'] } });
    const formFirst = await mockAtUrl();
    const only = { only: ['D2-missing-api-key'] };
    expect((await runConformance(urlTarget(keyFirst.endpoint), ALL_CASES, only)).observations).toEqual({ 'apiKey.missing': 401 });
    expect((await runConformance(urlTarget(formFirst.endpoint), ALL_CASES, only)).observations).toEqual({ 'apiKey.missing': 400 });
  });
});

describe('drift: --compare reports only real change', () => {
  const LOTS = [
    { licenseId: '1234', apiKey: '5678', credits: 100_000, allowedIps: ['127.0.0.1', '::1'] },
    { licenseId: ZERO.licenseId, apiKey: ZERO.apiKey, credits: 0, allowedIps: ['127.0.0.1', '::1'] },
  ];
  const record = async (endpoint: string) => {
    const report = await runConformance(urlTarget(endpoint), ALL_CASES);
    return { observations: report.observations, cases: report.observedBy };
  };

  it('ten records of one server, parallel answers and jitter included, all compare as no drift', async () => {
    const mock = await mockAtUrl({ licenses: LOTS, processing: { delayMs: 40, jitterMs: 60 } });
    // Requests held a random while on the way, so parallel ones reach the mock in another order each run.
    const endpoint = await deviantServer(mock.endpoint, { holdMs: () => Math.random() * 30 });
    const first = await record(endpoint);
    expect(Object.keys(first.observations)).toContain('concurrency.burst');
    for (let run = 2; run <= 10; run++) {
      const again = await record(endpoint);
      // Times are reported apart (a busy CI machine doubles one now and then); behaviour must not move.
      const drift = compareObservations(first.observations, again.observations).filter((d) => d.kind === 'behaviour');
      expect({ run, drift }).toEqual({ run, drift: [] });
    }
    // Ten whole runs: on a busy machine more than the default 30 s.
  }, 180_000);

  it('a server that changed one undocumented behaviour is reported with exactly that change, and its case', async () => {
    const before = await record((await mockAtUrl({ licenses: LOTS })).endpoint);
    const after = await record((await mockAtUrl({ licenses: LOTS, rules: { errorBody: 'text' } })).endpoint);
    expect(compareObservations(before.observations, after.observations, { before: before.cases, after: after.cases })).toEqual([
      { key: 'errorBody', before: 'json-envelope', after: 'text', kind: 'behaviour', case: 'M9-error-body' },
    ]);
  });
});

describe('profiles as fine as the observations: a round trip through a server that decides differently', () => {
  it('record it, profile a mock with what was seen, record the mock: no drift in behaviour', async () => {
    const known = ['1234', ZERO.licenseId];
    const field = (body: Buffer, name: string) => new RegExp(`name="${name}"\r\n\r\n([^\r]*)\r\n`).exec(body.toString('latin1'))?.[1];
    const upstream = await mockAtUrl({ processing: { delayMs: 30 } });
    // Not the mock's choices: Credits-Remaining on 402 and 429 but not on 415, "maybe" read as
    // true, and a 403 for a license that does not exist.
    const endpoint = await deviantServer(upstream.endpoint, {
      answer: async (a, req) => {
        const licenseId = field(req.body, 'licenseId');
        if (licenseId !== undefined && !known.includes(licenseId)) {
          return { status: 403, headers: { 'content-type': 'text/plain' }, body: Buffer.from('IP not authorised for this license') };
        }
        if (field(req.body, 'includeCroppedImage') === 'maybe') {
          return req.resend(Buffer.from(req.body.toString('latin1').replace('\r\n\r\nmaybe\r\n', '\r\n\r\ntrue\r\n'), 'latin1'));
        }
        if (a.status === 415) {
          const { 'credits-remaining': _dropped, ...headers } = a.headers;
          return { ...a, headers };
        }
        return a;
      },
    });
    // Through its mock's admin API the suite controls each target: the burst holds its slots a
    // known while, so its 429 (and whether it carries Credits-Remaining) is seen however busy the machine.
    const controlled = (at: string, mock: { url: string }): Target => ({ ...urlTarget(at), admin: new MockAdminClient(mock.url) });
    const live = await runConformance(controlled(endpoint, upstream), ALL_CASES);
    expect(ids(live, 'fail')).toEqual([]);
    expect(live.observations).toMatchObject({
      'creditsRemaining.onErrors': { 415: false },
      'creditsRemaining.on402': true,
      'creditsRemaining.on429': true,
      'booleans.maybe': 'true',
      'license.unknown': 403,
    });

    const profiled = applyProfile(upstream.config, live.observations);
    expect(profiled.rules).toMatchObject({
      creditsRemainingOnErrors: [400, 402, 429, 500],
      strictBooleans: false,
      lenientBooleans: true,
      unknownLicenseStatus: 403,
    });
    const aligned = await startTestMock(profiled);
    const again = await runConformance(controlled(aligned.endpoint, aligned), ALL_CASES);
    expect(ids(again, 'fail')).toEqual([]);
    const drift = compareObservations(live.observations, again.observations, { before: live.observedBy, after: again.observedBy });
    expect(drift.filter((d) => d.kind === 'behaviour')).toEqual([]);

    // And the mock's defaults differ from that server on exactly those choices (with what follows
    // from them: a 415 without the header cannot show whether it was charged; an unknown license
    // from an unlisted address is a 403 whichever check answers).
    const defaultsMock = await mockAtUrl({ processing: { delayMs: 30 } });
    const defaults = await runConformance(controlled(defaultsMock.endpoint, defaultsMock), ALL_CASES);
    const changed = compareObservations(live.observations, defaults.observations)
      .filter((d) => d.kind === 'behaviour')
      .map((d) => d.key);
    expect(changed).toEqual(['booleans.maybe', 'charges.415', 'creditsRemaining.onErrors.415', 'license.unknown', 'order.license-vs-allowlist']);
    // Three whole runs: on a busy machine more than the default 30 s.
  }, 90_000);
});

describe('credentials never appear in a report', () => {
  it('not in messages nor observations, even when the target echoes them', async () => {
    const mock = await mockAtUrl();
    // A target that puts the license's key in its error bodies.
    const leak = (a: Answer) =>
      a.status >= 400 ? { ...a, headers: { ...a.headers, 'content-type': 'text/plain' }, body: Buffer.from('the key of 1234 is 5678, zero-key for zero') } : a;
    const endpoint = await deviantServer(mock.endpoint, { answer: leak });
    const report = await runConformance(urlTarget(endpoint), ALL_CASES, { only: ['M9-error-body'] });
    const text = JSON.stringify(report);
    expect(text).toContain('the key of 1234 is ***, *** for zero');
    expect(text).not.toContain('5678');
    expect(text).not.toContain('zero-key');
  });
});

describe("the run stops at the caller's mistake, before any further paid case", () => {
  it("the first 401 to a request with the run's own credentials that should have been accepted ends the run; nothing is reported on the target", async () => {
    const mock = await mockAtUrl();
    const seen: Array<{ licenseId: string | undefined; apiKey: string | undefined; image: boolean; status: number }> = [];
    const field = (body: Buffer, name: string) => new RegExp(`name="${name}"\r\n\r\n([^\r]*)\r\n`).exec(body.toString('latin1'))?.[1];
    const endpoint = await deviantServer(mock.endpoint, {
      answer: (a, req) => {
        seen.push({
          licenseId: field(req.body, 'licenseId'),
          apiKey: field(req.body, 'apiKey'),
          image: /name="image"; filename=/.test(req.body.toString('latin1')),
          status: a.status,
        });
        return a;
      },
    });
    const told: string[] = [];
    const target: Target = { ...urlTarget(endpoint), credentials: { licenseId: '1234', apiKey: 'wrong' } };
    const report = await runConformance(target, ALL_CASES, { onOutcome: (o) => told.push(o.id) });
    expect(report.notRun).toMatch(/^the target refused license "1234" and its API key \(401 to a request it should have accepted\): .*BEIA_API_KEY/);
    // Free cases ran first (a wrong key cannot be told from a free request on every target); the
    // first complete request with the key stopped the run, and was the last one sent.
    const first = seen.findIndex((r) => r.licenseId === '1234' && r.apiKey === 'wrong' && r.image && r.status === 401);
    expect(first).toBeGreaterThan(0);
    expect(first).toBe(seen.length - 1);
    expect(report.outcomes).toEqual([]);
    expect(report.observations).toEqual({});
    expect(told).toEqual([]);
    expect(verdictOf(report)).toMatchObject({ tone: 'warn', title: 'Did not run' });
    for (const text of [jsonReport(report), junitReport(report), htmlReport(report), consoleReport(report)]) expect(text).not.toMatch(/do not release/i);
  });

  it('a target that stops answering in the middle of a run: one error and a stop, not one error per case', async () => {
    // Answers the preflight, then goes away.
    const server = createServer((_req, res) => {
      res.writeHead(400, { connection: 'close' }).end();
      server.close();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/beia-api/v1/image`;
    const report = await runConformance(urlTarget(endpoint), ALL_CASES);
    expect(report.notRun).toBeUndefined();
    expect(report.stopped).toMatch(/^the target stopped answering: nothing answers at 127\.0\.0\.1:\d+ \(connection refused\)/);
    expect(report.outcomes.filter((o) => o.status === 'error')).toHaveLength(1);
    expect(report.outcomes.filter((o) => o.status === 'skip').every((o) => o.message.startsWith('not run: the target stopped answering'))).toBe(true);
  });
});

describe('honest verdicts: each documented rule verified, failed or not verified, and why', () => {
  const verdicts = (report: RunReport) => Object.fromEntries(report.rules!.map((r) => [r.rule, r.status]));

  it('a run without the 402 and 403 means says which rules it did not verify, and the flag that would', async () => {
    const mock = await mockAtUrl();
    const { zeroCreditLicense: _zero, unlistedSourceAddress: _address, ...bare } = urlTarget(mock.endpoint);
    const report = await runConformance(bare, ALL_CASES);
    expect(verdicts(report)).toEqual({
      D1: 'verified',
      D2: 'verified',
      D3: 'verified',
      D4: 'verified',
      D5: 'verified',
      D6: 'verified',
      D7: 'not verified',
      D8: 'not verified',
      D9: 'verified',
    });
    const d8 = report.rules!.find((r) => r.rule === 'D8')!;
    expect(d8.why).toContain('D8-403-unlisted-address not run: give --unlisted-source-address IP');
    const d7 = report.rules!.find((r) => r.rule === 'D7')!;
    expect(d7.flags).toEqual(expect.arrayContaining([expect.stringContaining('--zero-credit-license ID:KEY'), expect.stringContaining('--admin')]));
    const verdict = verdictOf(report);
    expect(verdict).toMatchObject({ tone: 'partial', title: '7 of 9 documented rules verified, all hold' });
    expect(verdict.text).toContain('--unlisted-source-address');
    // Every reporter says the same.
    expect(consoleReport(report)).toContain('D8  not verified: D8-403-unlisted-address not run: give --unlisted-source-address IP');
    expect(consoleReport(report)).toMatch(/7 of 9 documented rules verified, all hold \(not verified: D7, D8\); \d+ passed/);
    expect(JSON.parse(jsonReport(report))).toMatchObject({
      verdict: { title: '7 of 9 documented rules verified, all hold' },
      rules: expect.arrayContaining([expect.objectContaining({ rule: 'D8', status: 'not verified' })]),
    });
    expect(junitReport(report)).toContain('<property name="rule.D8" value="not verified: D8-403-unlisted-address not run: give --unlisted-source-address IP');
    const html = htmlReport(report);
    expect(html).toContain('7 of 9 documented rules verified, all hold');
    expect(html).not.toMatch(/every (documented )?rule holds/i);
    // D8 has a group of its own.
    expect(html).toMatch(/<summary><span class="rule">D8<\/span>[^<]*<span class="rule-status skip">not verified<\/span>/);
  });

  it('with everything given (the in-process mock) all nine are verified; a case left out by --only is not', async () => {
    const { target, close } = await openTarget({ target: 'mock' });
    try {
      const all = await runConformance(target, ALL_CASES, { skip: ['load'] });
      expect(verdictOf(all).title).toBe('9 of 9 documented rules verified, all hold');
      expect(verdictOf(all).tone).toBe('good');
      const one = await runConformance(target, ALL_CASES, { only: ['D7-402-no-credits'] });
      expect(one.rules!.find((r) => r.rule === 'D7')).toMatchObject({ status: 'not verified', why: expect.stringContaining('not selected (--only, --skip)') });
    } finally {
      await close();
    }
  });

  it('a broken documented rule names the rule and says not to release', async () => {
    const mock = await mockAtUrl();
    const endpoint = await deviantServer(mock.endpoint, { answer: (a) => (a.status === 415 ? { ...a, status: 500 } : a) });
    const report = await runConformance(urlTarget(endpoint), ALL_CASES, { skip: ['load'] });
    expect(report.rules!.find((r) => r.rule === 'D7')).toMatchObject({ status: 'failed', why: 'D7-415-not-an-image failed' });
    expect(verdictOf(report).text).toBe('The target breaks a documented rule of the vendor’s page (D7): do not release on it.');
  });
});

describe('what the run makes on a target it removes', () => {
  it('two --admin runs at once on one mock each make a zero-credit license of their own, and leave none behind', async () => {
    const mock = await startTestMock({ licenses: [{ licenseId: '1234', apiKey: '5678', allowedIps: ['127.0.0.1', '::1'] }] });
    const open = () => openTarget({ target: mock.endpoint, licenseId: '1234', apiKey: '5678', admin: true });
    const [a, b] = await Promise.all([open(), open()]);
    const only = { only: ['D7-402-no-credits', 'M1-auth-before-credits'] };
    const [first, second] = await Promise.all([runConformance(a.target, ALL_CASES, only), runConformance(b.target, ALL_CASES, only)]);
    for (const report of [first, second]) expect(report.outcomes.find((o) => o.id === 'D7-402-no-credits')).toMatchObject({ status: 'pass' });
    const admin = new MockAdminClient(mock.url);
    expect((await admin.licenses()).map((l) => l.licenseId)).toEqual(['1234']);
    expect(await admin.faults()).toEqual([]);
  });
});

describe('timing is not behaviour: the burst', () => {
  it('where the suite controls the target (the admin API), each slot is held a known while: the same counts every run', async () => {
    const { target, close } = await openTarget({ target: 'mock' });
    try {
      for (let run = 0; run < 3; run++) {
        const report = await runConformance(target, ALL_CASES, { only: ['U-concurrency-burst'] });
        expect({ run, burst: report.observations['concurrency.burst'] }).toEqual({
          run,
          burst: { parallel: 4, succeeded: 2, refused429: 2, retryAfter: '1', statuses: { 200: 2, 429: 2 }, heldMs: 1000 },
        });
      }
      expect(await target.admin!.faults()).toEqual([]);
    } finally {
      await close();
    }
  });

  it('on a target it does not control, the counts of the burst are compared as timing, not as drift', () => {
    const raced = (succeeded: number) => ({
      parallel: 4,
      succeeded,
      refused429: 4 - succeeded,
      retryAfter: succeeded === 4 ? null : '1',
      statuses: succeeded === 4 ? { 200: 4 } : { 200: succeeded, 429: 4 - succeeded },
      heldMs: null,
    });
    const drift = compareObservations({ 'concurrency.burst': raced(2) }, { 'concurrency.burst': raced(4) });
    expect(drift.filter((d) => d.kind === 'behaviour')).toEqual([]);
    expect(drift.filter((d) => d.kind === 'timing').map((d) => d.key)).toEqual([
      'concurrency.burst.refused429',
      'concurrency.burst.retryAfter',
      'concurrency.burst.statuses.200',
      'concurrency.burst.statuses.429',
      'concurrency.burst.succeeded',
    ]);
    // A record of an older beia-kit (no heldMs) is a race too.
    const { heldMs: _held, ...old } = raced(3);
    expect(compareObservations({ 'concurrency.burst': old }, { 'concurrency.burst': raced(2) }).filter((d) => d.kind === 'behaviour')).toEqual([]);
    // Held by the suite on both sides, the counts are the target's limit: a change is behaviour.
    const held = (succeeded: number) => ({ ...raced(succeeded), heldMs: 1000 });
    expect(
      compareObservations({ 'concurrency.burst': held(2) }, { 'concurrency.burst': held(3) })
        .filter((d) => d.kind === 'behaviour')
        .map((d) => d.key),
    ).toEqual(['concurrency.burst.refused429', 'concurrency.burst.statuses.200', 'concurrency.burst.statuses.429', 'concurrency.burst.succeeded']);
    // And a Retry-After that changed while both sides saw one is behaviour, held or not.
    expect(compareObservations({ 'concurrency.burst': raced(2) }, { 'concurrency.burst': { ...raced(2), retryAfter: '5' } })).toEqual([
      { key: 'concurrency.burst.retryAfter', before: '1', after: '5', kind: 'behaviour' },
    ]);
  });
});
