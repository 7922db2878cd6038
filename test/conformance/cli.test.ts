import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, spawnCli, startCliMock } from '../helpers/cli.js';
import { deviantServer } from '../helpers/deviant-proxy.js';
import { eventually, startTestMock } from '../helpers/server.js';
import { MockAdminClient, MOCK_VERSION } from '../../src/mock/index.js';

const SECRET = 'conformance-secret-key';

async function dir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'beia-conformance-'));
}

async function configFile(config: unknown): Promise<string> {
  const file = join(await dir(), 'mock.json');
  await writeFile(file, JSON.stringify(config));
  return file;
}

const LICENSES = [
  { licenseId: 'L1', apiKey: SECRET, credits: 50, allowedIps: ['127.0.0.1', '::1'] },
  { licenseId: 'zero', apiKey: 'zero-key', credits: 0, allowedIps: ['127.0.0.1', '::1'] },
];
const CREDENTIALS = ['--license-id', 'L1', '--api-key', SECRET];

describe('beia conformance against beia mock on a port', () => {
  it('passes or observes every case it can run, writes JSON and JUnit, and never prints the key', async () => {
    const mock = await startCliMock(['--quiet', '--config', await configFile({ licenses: LICENSES })]);
    const out = await dir();
    const run = await runCli([
      'conformance',
      '--target',
      mock.endpoint,
      ...CREDENTIALS,
      '--zero-credit-license',
      'zero:zero-key',
      '--unlisted-source-address',
      '127.0.0.2',
      '--admin',
      '--reporter',
      'console',
      '--reporter',
      `json=${join(out, 'report.json')}`,
      '--reporter',
      `junit=${join(out, 'report.xml')}`,
      '--record',
      join(out, 'observed.json'),
    ]);
    expect(run.code).toBe(0);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as {
      summary: Record<string, number>;
      cases: Array<{ id: string; rule: string; status: string; message: string }>;
    };
    expect(report.summary).toMatchObject({ failed: 0, errored: 0, skipped: 0 });
    expect(report.summary.passed).toBeGreaterThan(15);
    expect(report.cases.every((c) => c.id && c.rule && c.status && typeof c.message === 'string')).toBe(true);
    const junit = await readFile(join(out, 'report.xml'), 'utf8');
    expect(junit).toMatch(/<testsuites name="beia conformance" tests="\d+" failures="0" errors="0"/);
    const everything = run.stdout + run.stderr + JSON.stringify(report) + junit + (await readFile(join(out, 'observed.json'), 'utf8'));
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain('zero-key');
    expect(run.stdout).toMatch(/\d+ passed, 0 failed, 0 errored, 0 skipped, \d+ observed/);
    await mock.stop();
  });

  it('--admin makes the zero-credit license through the admin API when none is given, and removes it; --dry-run only plans it', async () => {
    // Not quiet: its log shows the admin calls.
    const mock = await startCliMock(['--host', '0.0.0.0', '--admin-token', 'T', '--config', await configFile({ licenses: [LICENSES[0]] })]);
    const adminFlags = ['--admin', '--admin-token', 'T'];
    const plan = await runCli(['conformance', '--target', mock.endpoint, ...CREDENTIALS, ...adminFlags, '--dry-run']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/run +D7-402-no-credits/);
    const admin = new MockAdminClient(new URL(mock.endpoint).origin, { token: 'T' });
    const licenses = async () => (await admin.licenses()).map((l) => l.licenseId);
    expect(await licenses()).toEqual(['L1']);

    const run = await runCli(['conformance', '--target', mock.endpoint, ...CREDENTIALS, ...adminFlags, '--only', 'D7-402-no-credits,M1-auth-before-credits']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('1 passed, 0 failed, 0 errored, 0 skipped, 1 observed');
    // Made with POST /__admin/licenses (a fresh id), deleted after the run: no conformance-zero-credits left behind.
    const calls = mock
      .stdout()
      .split('\n')
      .filter((line) => line.includes('"/__admin/licenses'))
      .map((line) => JSON.parse(line) as { method: string; path: string; status: number });
    expect(calls.filter((c) => c.method === 'POST' && c.path === '/__admin/licenses' && c.status === 201)).toHaveLength(1);
    expect(calls.filter((c) => c.method === 'DELETE' && c.status === 200)).toHaveLength(1);
    expect(calls.filter((c) => c.method === 'PUT')).toEqual([]);
    expect(await licenses()).toEqual(['L1']);
    expect(await admin.faults()).toEqual([]);

    const wrongToken = await runCli(['conformance', '--target', mock.endpoint, ...CREDENTIALS, '--admin', '--admin-token', 'nope', '--only', 'free']);
    expect(wrongToken.code).toBe(2);
    expect(`${wrongToken.stdout}${wrongToken.stderr}`.trim().split('\n')).toEqual([expect.stringContaining('refused the admin token (401)')]);
    expect(wrongToken.stderr).toContain('--admin-token or BEIA_MOCK_ADMIN_TOKEN');
    await mock.stop();
  });

  it('--dry-run prints the plan and its most credits, and sends nothing', async () => {
    const mock = await startTestMock({ licenses: LICENSES });
    const run = await runCli(['conformance', '--target', mock.endpoint, ...CREDENTIALS, '--dry-run']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/plan: \d+ cases, at most \d+ credits/);
    expect(run.stdout).toContain('skip  D7-402-no-credits');
    expect(run.stdout).toContain('give --zero-credit-license ID:KEY');
    expect(await mock.store.listJournal()).toEqual([]);
  });

  it('--budget refuses a plan above it before sending anything; --only free spends nothing', async () => {
    const mock = await startTestMock({ licenses: LICENSES });
    const refused = await runCli(['conformance', '--target', mock.endpoint, ...CREDENTIALS, '--budget', '3']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/The plan may spend \d+ credits, over the budget of 3/);
    expect(await mock.store.listJournal()).toEqual([]);
    const free = await runCli(['conformance', '--target', mock.endpoint, ...CREDENTIALS, '--only', 'free', '--budget', '0']);
    expect(free.code).toBe(0);
    expect(free.stdout).toContain('plan: at most 0 credits');
    expect((await mock.store.getLicense('L1'))!.credits).toBe(50);
  });

  it('--budget stops the run when Credits-Remaining falls faster than planned', async () => {
    const mock = await startTestMock({ licenses: LICENSES });
    // A target that charges ten credits per image: its Credits-Remaining falls ten at a time.
    let extra = 0;
    const endpoint = await deviantServer(mock.endpoint, {
      answer: (a) => {
        // And a 0 on every error, as a target may send: it must not hide the fall.
        if (a.status >= 400) return { ...a, headers: { ...a.headers, 'credits-remaining': '0' } };
        if (a.status === 200) extra += 9;
        const credits = a.headers['credits-remaining'];
        return credits === undefined ? a : { ...a, headers: { ...a.headers, 'credits-remaining': String(Number(credits) - extra) } };
      },
    });
    const run = await runCli(['conformance', '--target', endpoint, ...CREDENTIALS, '--budget', '40']);
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/stopped: Credits-Remaining fell by \d+, more than the \d+ planned so far/);
    expect(run.stdout).toContain('not run: Credits-Remaining fell');
  });

  it('exits 1 when a documented rule is broken, 2 when the target cannot be reached', async () => {
    const mock = await startTestMock({ licenses: LICENSES });
    const broken = await deviantServer(mock.endpoint, { answer: (a) => (a.status === 415 ? { ...a, status: 500 } : a) });
    const failed = await runCli(['conformance', '--target', broken, ...CREDENTIALS, '--only', 'D7-415-not-an-image']);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('FAIL  D7-415-not-an-image');
    expect(failed.stdout).toContain('D7: expected 415; got 500');
    const port = mock.port;
    await mock.close();
    const unreachable = await runCli(['conformance', '--target', `http://127.0.0.1:${port}/beia-api/v1/image`, ...CREDENTIALS, '--only', 'free']);
    expect(unreachable.code).toBe(2);
    expect(unreachable.stdout).not.toContain('ERROR');
  });

  it('--target mock ignores live credentials exported in the environment', async () => {
    const run = await runCli(['conformance', '--target', 'mock', '--only', 'D7-401-wrong-key,D1-post-multipart'], {
      BEIA_LICENSE_ID: 'live-license',
      BEIA_API_KEY: 'live-key',
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('2 passed, 0 failed');
  });

  it('refuses bad usage with exit 2', async () => {
    expect((await runCli(['conformance'])).code).toBe(2);
    expect((await runCli(['conformance', '--target', 'ftp://x'])).stderr).toContain('expected "mock" or the image endpoint');
    expect((await runCli(['conformance', '--target', 'mock', '--only', 'nothing-like-this'])).stderr).toContain(
      '--only/--skip name no case: nothing-like-this',
    );
    const xml = await runCli(['conformance', '--target', 'mock', '--reporter', 'xml']);
    expect(xml.code).toBe(2);
    expect(xml.stderr).toContain('expected console, json, junit or html');
  });
});

describe('observations: --record, --compare and beia mock --profile', () => {
  it('records what a target decided, makes a mock behave the same, and finds no drift between them', async () => {
    const out = await dir();
    // A "live" API that decides differently where the vendor page is silent.
    const live = await startCliMock([
      '--quiet',
      '--config',
      await configFile({
        licenses: LICENSES,
        rules: {
          errorBody: 'text',
          partLabels: 'content-id',
          creditsRemainingOnErrors: false,
          checkOrder: ['ip-allowlist', 'content-type', 'form', 'license-header', 'credits', 'auth', 'image', 'slot'],
        },
      }),
    ]);
    const record = (target: string, file: string) =>
      runCli([
        'conformance',
        '--target',
        target,
        ...CREDENTIALS,
        '--zero-credit-license',
        'zero:zero-key',
        '--skip',
        'load',
        '--reporter',
        `json=${join(out, 'r.json')}`,
        '--record',
        file,
      ]);
    expect((await record(live.endpoint, join(out, 'live.json'))).code).toBe(0);
    await live.stop();

    const aligned = await startCliMock(['--quiet', '--config', await configFile({ licenses: LICENSES }), '--profile', join(out, 'live.json')]);
    expect(aligned.stderr()).toContain(`as observed in ${join(out, 'live.json')}`);
    expect((await record(aligned.endpoint, join(out, 'aligned.json'))).code).toBe(0);
    await aligned.stop();

    const same = await runCli(['conformance', '--compare', join(out, 'live.json'), join(out, 'aligned.json')]);
    expect(same.stdout).toContain('no drift');
    expect(same.code).toBe(0);

    const defaults = await startCliMock(['--quiet', '--config', await configFile({ licenses: LICENSES })]);
    await record(defaults.endpoint, join(out, 'defaults.json'));
    await defaults.stop();
    const drift = await runCli(['conformance', '--compare', join(out, 'live.json'), join(out, 'defaults.json')]);
    expect(drift.code).toBe(1);
    expect(drift.stdout).toContain('errorBody: "text" -> "json-envelope"');
    expect(drift.stdout).toContain('order.auth-vs-credits: 402 -> 401');
  });
});

/** Everything a run printed, line by line. */
const printed = (run: { stdout: string; stderr: string }) => `${run.stdout}${run.stderr}`.trim().split('\n');

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A loopback server of this test: not a beia mock. */
async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('a run that cannot tell anything about the target ends in one line, exit 2, and "did not run" in every report', () => {
  it('a wrong API key: stopped at the first 401 to a request that should have been accepted, the reports say "did not run"', async () => {
    const mock = await startTestMock({ licenses: LICENSES });
    const out = await dir();
    const files = { json: join(out, 'r.json'), junit: join(out, 'r.xml'), html: join(out, 'r.html') };
    const run = await runCli(
      [
        'conformance',
        '--target',
        mock.endpoint,
        ...Object.entries(files).flatMap(([kind, file]) => ['--reporter', `${kind}=${file}`]),
        '--reporter',
        'console',
      ],
      { BEIA_LICENSE_ID: 'L1', BEIA_API_KEY: 'wrong' },
    );
    expect(run.code).toBe(2);
    expect(printed(run)).toEqual([expect.stringContaining('did not run: the target refused license "L1" and its API key (401')]);
    expect(run.stderr).toContain('BEIA_API_KEY');
    for (const file of Object.values(files)) {
      const text = await readFile(file, 'utf8');
      expect(text, file).toContain('did not run: the target refused license');
      expect(text, file).not.toMatch(/do not release/i);
    }
    expect(JSON.parse(await readFile(files.json, 'utf8'))).toMatchObject({ cases: [], summary: { failed: 0 }, observations: {} });
    expect(await readFile(files.junit, 'utf8')).toMatch(/<error message="did not run: the target refused license/);
    // A 401 spends nothing, and it was the last request: no paid case after it.
    expect((await mock.store.getLicense('L1'))!.credits).toBe(50);
    expect((await mock.store.listJournal()).at(-1)).toMatchObject({ status: 401 });
  });

  it('the base URL instead of the endpoint: one request, and the endpoint to use', async () => {
    const mock = await startTestMock({ licenses: LICENSES });
    const origin = new URL(mock.endpoint).origin;
    const run = await runCli(['conformance', '--target', `${origin}/`, ...CREDENTIALS]);
    expect(run.code).toBe(2);
    expect(printed(run)).toEqual([expect.stringContaining(`--target must be the image endpoint, not the base URL: try ${origin}/beia-api/v1/image`)]);
    expect((await mock.store.listJournal()).map((entry) => [entry.path, entry.status])).toEqual([['/', 404]]);
  });

  it('a dead port: one line, not one ERROR per case', async () => {
    const mock = await startTestMock({ licenses: LICENSES });
    const port = mock.port;
    await mock.close();
    const run = await runCli(['conformance', '--target', `http://127.0.0.1:${port}/beia-api/v1/image`, ...CREDENTIALS]);
    expect(run.code).toBe(2);
    expect(printed(run)).toEqual([
      `beia conformance did not run: nothing answers at 127.0.0.1:${port} (connection refused): start the server, or correct the host and port in --target`,
    ]);
  });

  it.skipIf(!existsSync('/usr/bin/openssl'))('a TLS certificate this machine does not trust: one line that names NODE_EXTRA_CA_CERTS', async () => {
    const out = await dir();
    execFileSync(
      '/usr/bin/openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-keyout',
        join(out, 'key.pem'),
        '-out',
        join(out, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const tls = createHttpsServer({ key: await readFile(join(out, 'key.pem')), cert: await readFile(join(out, 'cert.pem')) }, (_req, res) =>
      res.writeHead(400).end(),
    );
    const where = await listen(tls);
    const run = await runCli(['conformance', '--target', `https://${where}/beia-api/v1/image`, ...CREDENTIALS], { NODE_EXTRA_CA_CERTS: '' });
    expect(run.code).toBe(2);
    expect(printed(run)).toEqual([expect.stringContaining('the TLS certificate of 127.0.0.1 is not trusted')]);
    expect(run.stderr).toContain('NODE_EXTRA_CA_CERTS');
  });

  it('--admin at a target that is not a beia mock: one line, and nothing paid', async () => {
    let paid = 0;
    const where = await listen(
      createServer((req, res) => {
        if (req.url === '/beia-api/v1/image') paid += 1;
        res.writeHead(req.url === '/beia-api/v1/image' ? 400 : 404).end();
      }),
    );
    const run = await runCli(['conformance', '--target', `http://${where}/beia-api/v1/image`, ...CREDENTIALS, '--admin']);
    expect(run.code).toBe(2);
    expect(printed(run)).toEqual([
      expect.stringContaining(`no beia mock admin API answers at http://${where}/__admin/health (it answered 404): --admin is for a beia mock`),
    ]);
    expect(paid).toBe(1); // the preflight's free request
  });

  it('a zero-credit license the target refuses: one line that names --zero-credit-license', async () => {
    const mock = await startTestMock({ licenses: LICENSES });
    const run = await runCli(['conformance', '--target', mock.endpoint, ...CREDENTIALS, '--zero-credit-license', 'zero:not-its-key']);
    expect(run.code).toBe(2);
    expect(printed(run)).toEqual([expect.stringContaining('the target refused the zero-credit license "zero" (401')]);
    expect(run.stderr).toContain('correct --zero-credit-license ID:KEY');
  });

  it('a machine off the license allowlist (403): one line that says so', async () => {
    const mock = await startTestMock({ licenses: [{ ...LICENSES[0], allowedIps: ['192.0.2.1'] }] });
    const run = await runCli(['conformance', '--target', mock.endpoint, ...CREDENTIALS]);
    expect(run.code).toBe(2);
    expect(printed(run)).toEqual([expect.stringContaining(`the target refused license "L1" from this machine (403`)]);
    expect(run.stderr).toContain("run from an address on the license's allowlist (D8)");
  });
});

describe('every run says what it verified, with what, when', () => {
  it('an html-only run prints its one-line summary; reports carry the version, the target and the time; the mock suite name is stable', async () => {
    const out = await dir();
    const files = { html: join(out, 'r.html'), junit: join(out, 'r.xml'), json: join(out, 'r.json') };
    const run = await runCli(['conformance', '--target', 'mock', '--only', 'free', '--reporter', `html=${files.html}`]);
    expect(run.code).toBe(0);
    expect(printed(run)).toEqual([
      expect.stringMatching(/^beia conformance: \d of 9 documented rules verified, all hold \(not verified: .*\); \d+ passed, 0 failed/),
    ]);
    const html = await readFile(files.html, 'utf8');
    expect(html).toContain(`beia-kit ${MOCK_VERSION}`);
    expect(html).toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);

    const again = await runCli(['conformance', '--target', 'mock', '--only', 'free', '--reporter', `junit=${files.junit}`, '--reporter', `json=${files.json}`]);
    expect(again.code).toBe(0);
    const junit = await readFile(files.junit, 'utf8');
    // No random port in the suite's name: a CI dashboard sees one suite run after run.
    expect(junit).toContain('<testsuite name="beia conformance: mock" timestamp="');
    expect(junit).toContain(`<property name="beia-kit.version" value="${MOCK_VERSION}"/>`);
    expect(junit).toMatch(/<property name="target" value="http:\/\/127\.0\.0\.1:\d+\/beia-api\/v1\/image"\/>/);
    const json = JSON.parse(await readFile(files.json, 'utf8')) as Record<string, unknown>;
    expect(json).toMatchObject({ kit: { name: 'beia-kit', version: MOCK_VERSION }, suite: 'beia conformance: mock', target: { kind: 'mock' } });
    expect(Date.parse(json.startedAt as string)).toBeGreaterThan(Date.now() - 600_000);
  });

  it('redacts credentials in the target the reports name: a user and password, and the key wherever it appears', async () => {
    const mock = await startTestMock({ licenses: LICENSES });
    const out = await dir();
    // A user:password in the URL, and the API key in its query (a proxy that wants it there).
    const target = `${mock.endpoint.replace('http://', 'http://someone:hunter2@')}?key=${SECRET}`;
    const run = await runCli([
      'conformance',
      '--target',
      target,
      ...CREDENTIALS,
      '--only',
      'free',
      '--reporter',
      'console',
      '--reporter',
      `json=${join(out, 'r.json')}`,
      '--reporter',
      `junit=${join(out, 'r.xml')}`,
    ]);
    expect(run.code).toBe(0);
    const json = await readFile(join(out, 'r.json'), 'utf8');
    expect(JSON.parse(json)).toMatchObject({ target: { endpoint: `${mock.endpoint}?key=***` } });
    const everything = json + (await readFile(join(out, 'r.xml'), 'utf8')) + run.stdout + run.stderr;
    expect(everything).toContain('?key=***');
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain('hunter2');
  });
});

describe('an interrupted run removes what it made on the target', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s: the zero-credit license and the armed faults are gone, exit %i', async (signal, code) => {
    const config = await configFile({ licenses: [LICENSES[0]], processing: { delayMs: 30_000 } });
    const mock = await startCliMock(['--quiet', '--admin-token', 'T', '--config', config]);
    const admin = new MockAdminClient(new URL(mock.endpoint).origin, { token: 'T' });
    const child = spawnCli([
      'conformance',
      '--target',
      mock.endpoint,
      ...CREDENTIALS,
      '--admin',
      '--admin-token',
      'T',
      '--only',
      'D7-402-no-credits,M7-concurrency-limit',
    ]);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (exitCode) => resolve(exitCode)));
    // M7 holds its slots: a latency fault armed, three images in processing, a license made.
    await eventually(async () => (await admin.faults()).length > 0 && (await admin.licenses()).length === 2, 15_000);
    child.kill(signal);
    expect(await exited).toBe(code);
    expect((await admin.licenses()).map((l) => l.licenseId)).toEqual(['L1']);
    expect(await admin.faults()).toEqual([]);
    await mock.stop();
  });
});
