import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { certificateNames, localCertificate, MOCK_VERSION } from '../src/mock/index.js';
import { CLI, REPO, runCli, spawnCli, startCliMock, waitsOnFifo } from './helpers/cli.js';
import { jpeg } from './helpers/images.js';
import { eventually, sendImage } from './helpers/server.js';

async function configFile(content: unknown): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'beia-cli-')), 'mock.json');
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('beia mock', () => {
  it('npm run mock stops with npm: a SIGTERM to npm leaves no mock on the port', async () => {
    const npm = spawn('npm', ['run', '--silent', 'mock', '--', '--port', '0'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let stderr = '';
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`npm run mock did not start within 15 s: ${stderr}`)), 15_000);
        npm.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          const found = /endpoint\s+(http:\/\/[^/\s]+)/.exec(stderr)?.[1];
          if (found) {
            clearTimeout(timer);
            resolve(found);
          }
        });
      });
      expect((await fetch(`${url}/__admin/health`)).status).toBe(200);
      npm.kill('SIGTERM');
      await eventually(
        async () =>
          (await fetch(`${url}/__admin/health`).then(
            () => 'up',
            () => 'down',
          )) === 'down',
        5_000,
      );
    } finally {
      npm.kill('SIGKILL');
    }
  }, 30_000);

  it('prints the endpoint and the credentials it accepts, and serves them', async () => {
    const mock = await startCliMock();
    expect(mock.stderr()).toMatch(/license\s+licenseId 1234\s+apiKey 5678\s+credits 100/);
    // The Node it runs on: each Node of the CI matrix runs this test with its own.
    expect(mock.stderr()).toContain(`runtime   Node ${process.version} (${process.platform}-${process.arch})`);
    expect(mock.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/beia-api\/v1\/image$/);
    const res = await sendImage(mock.endpoint, await jpeg());
    expect(res.status).toBe(200);
    expect(res.headers['x-beia-mock-version']).toBe(MOCK_VERSION);
    expect(await mock.stop()).toBe(0);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('on %s finishes the request in flight and exits 0', async (signal) => {
    const mock = await startCliMock(['--config', await configFile({ processing: { delayMs: 1500 } })]);
    const inFlight = sendImage(mock.endpoint, await jpeg());
    await new Promise((resolve) => setTimeout(resolve, 400));
    const exit = mock.stop(signal);
    expect((await inFlight).status).toBe(200);
    expect(await exit).toBe(0);
    expect(mock.stderr()).toContain(`${signal} received, finishing the requests in flight`);
  });

  it('a second signal exits at once with 1 instead of waiting', async () => {
    const mock = await startCliMock(['--config', await configFile({ processing: { delayMs: 5000 } })]);
    const inFlight = sendImage(mock.endpoint, await jpeg()).catch((error: Error) => error);
    await new Promise((resolve) => setTimeout(resolve, 300));
    mock.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await mock.stop('SIGTERM')).toBe(1);
    expect(mock.stderr()).toContain('SIGTERM again, exiting without waiting.');
    expect(await inFlight).toBeInstanceOf(Error);
  });

  it('reads its options from the environment too', async () => {
    const mock = await startCliMock([], {
      BEIA_MOCK_CONFIG: await configFile({ licenses: [{ licenseId: 'env', apiKey: 'k', credits: 7 }] }),
      BEIA_MOCK_QUIET: '1',
    });
    expect(mock.stderr()).toMatch(/licenseId env\s+apiKey k\s+credits 7/);
    await sendImage(mock.endpoint, await jpeg(), { licenseId: 'env', apiKey: 'k' });
    expect(await mock.stop()).toBe(0);
    expect(mock.stdout()).toBe('');
  });

  it('requires the admin token when one is given', async () => {
    const mock = await startCliMock(['--admin-token', 'tok']);
    const base = mock.endpoint.replace('/beia-api/v1/image', '');
    expect((await fetch(`${base}/__admin/licenses`)).status).toBe(401);
    expect((await fetch(`${base}/__admin/licenses`, { headers: { Authorization: 'Bearer tok' } })).status).toBe(200);
    expect(await mock.stop()).toBe(0);
  });

  it.each([
    [
      { licenses: [{ licenseId: '1', apiKey: 'k', credits: -5 }] },
      /Invalid config file .*mock\.json: config\.licenses\[0\]\.credits: expected an integer from 0/,
    ],
    [{ processing: { delay: 5 } }, /config\.processing\.delay: expected one of the known keys/],
    ['{ not json', /Failed to parse config file .*: .*It must be JSON/],
  ])('refuses a bad config file %j, naming the field, and exits 1', async (content, message) => {
    const { code, stderr } = await runCli(['mock', '--port', '0', '--config', await configFile(content)]);
    expect(code).toBe(1);
    expect(stderr).toMatch(message);
  });

  it('says so when the config file does not exist', async () => {
    const { code, stderr } = await runCli(['mock', '--config', '/nonexistent/beia.json']);
    expect(code).toBe(1);
    expect(stderr).toContain('Failed to read config file /nonexistent/beia.json');
  });

  it('beyond loopback without a token makes one, prints it once, and the admin API requires it', async () => {
    const mock = await startCliMock(['--host', '0.0.0.0']);
    const token = /Authorization: Bearer (\S+)\s+\(made for this run; BEIA_MOCK_ADMIN_TOKEN sets your own\)/.exec(mock.stderr())?.[1];
    expect(token).toMatch(/^[\w-]{20,}$/);
    expect(mock.stderr().split(token!).length).toBe(2); // printed once
    expect(mock.stderr()).toMatch(/listening on 0\.0\.0\.0:\d+ \(every address\)/);
    // The endpoint printed is one this machine can call.
    expect(mock.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/beia-api\/v1\/image$/);
    const base = mock.endpoint.replace('/beia-api/v1/image', '');
    expect((await fetch(`${base}/__admin/health`)).status).toBe(200);
    const denied = await fetch(`${base}/__admin/licenses`);
    expect(denied.status).toBe(401);
    expect(await denied.text()).toContain('or the one the mock made and printed at start');
    expect((await fetch(`${base}/__admin/licenses`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
    // The default license also takes the private ranges, where a container's mapped port comes from.
    expect(mock.stderr()).toMatch(/from 127\.0\.0\.1, ::1, 10\.0\.0\.0\/8, 172\.16\.0\.0\/12, 192\.168\.0\.0\/16, fc00::\/7/);
    expect((await sendImage(mock.endpoint, await jpeg())).status).toBe(200);
    expect(await mock.stop()).toBe(0);
  });

  it('beyond loopback with a token given never prints it', async () => {
    const mock = await startCliMock(['--host', '0.0.0.0'], { BEIA_MOCK_ADMIN_TOKEN: 'my-own-token' });
    expect(mock.stderr()).toContain('token required: the one given');
    expect(mock.stderr()).not.toContain('my-own-token');
    const base = mock.endpoint.replace('/beia-api/v1/image', '');
    expect((await fetch(`${base}/__admin/licenses`, { headers: { Authorization: 'Bearer my-own-token' } })).status).toBe(200);
    expect(await mock.stop()).toBe(0);
  });

  it('prints the URLs clients reach it at when given one (BEIA_MOCK_PUBLIC_URL), and refuses one that is not http', async () => {
    const mock = await startCliMock([], { BEIA_MOCK_PUBLIC_URL: 'http://127.0.0.1:18080/ignored/path' });
    const stderr = mock.stderr();
    expect(stderr).toMatch(/^beia mock \S+ listening on 127\.0\.0\.1:\d+$/m); // what testcontainers waits for is unchanged
    expect(stderr).toMatch(/^ {2}public {4}http:\/\/127\.0\.0\.1:18080 \(BEIA_MOCK_PUBLIC_URL\).*: the URLs below use it$/m);
    expect(stderr).toContain('  endpoint  http://127.0.0.1:18080/beia-api/v1/image\n');
    expect(stderr).toContain('  dashboard http://127.0.0.1:18080/__admin/ui ');
    expect(stderr).toContain('try       curl -X POST "http://127.0.0.1:18080/beia-api/v1/image"');
    expect(await mock.stop()).toBe(0);
    const refused = await runCli(['mock', '--public-url', 'localhost:18080']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--public-url is "localhost:18080"; expected the URL clients reach the mock at, such as http://127.0.0.1:18080.');
  });

  it('a license without allowedIps takes loopback only on loopback', async () => {
    const mock = await startCliMock(['--config-json', JSON.stringify({ licenses: [{ licenseId: 'a', apiKey: 'b' }] })]);
    expect(mock.stderr()).toMatch(/licenseId a\s+apiKey b\s+credits 100\s+from 127\.0\.0\.1, ::1\s/);
    expect(await mock.stop()).toBe(0);
  });

  it('takes the whole config inline from --config-json or BEIA_MOCK_CONFIG_JSON', async () => {
    const inline = JSON.stringify({ licenses: [{ licenseId: 'ci', apiKey: 'k', credits: 3 }] });
    const fromEnv = await startCliMock([], { BEIA_MOCK_CONFIG_JSON: inline });
    expect(fromEnv.stderr()).toContain('config    inline (--config-json, BEIA_MOCK_CONFIG_JSON)');
    const res = await sendImage(fromEnv.endpoint, await jpeg(), { licenseId: 'ci', apiKey: 'k' });
    expect(res.headers['credits-remaining']).toBe('2');
    expect(await fromEnv.stop()).toBe(0);

    const bad = await runCli(['mock', '--port', '0'], { BEIA_MOCK_CONFIG_JSON: '{"licenses":[{"licenseId":"x","apiKey":"k","credits":-1}]}' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('Invalid config in --config-json or BEIA_MOCK_CONFIG_JSON: config.licenses[0].credits: expected an integer from 0');
    const notJson = await runCli(['mock', '--port', '0', '--config-json', '{licenses']);
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toContain('Failed to parse config in --config-json or BEIA_MOCK_CONFIG_JSON');
    const both = await runCli(['mock', '--port', '0', '--config-json', '{}'], { BEIA_MOCK_CONFIG: '/tmp/x.json' });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('keep one');
  });

  it('refuses a BEIA_MOCK_QUIET it cannot read', async () => {
    const run = await runCli(['mock', '--port', '0'], { BEIA_MOCK_QUIET: 'maybe' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('BEIA_MOCK_QUIET is "maybe"; expected 1 or 0');
  });

  it('a SIGTERM while starting ends it at once by that signal, even when the config read is stuck', async () => {
    // A FIFO with no writer: reading it blocks, as a stuck mount would.
    const fifo = join(await mkdtemp(join(tmpdir(), 'beia-cli-')), 'stuck.json');
    execFileSync('mkfifo', [fifo]);
    const child = spawnCli(['mock', '--port', '0', '--config', fifo]);
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    // It reads its config after its signal handlers are in place.
    await eventually(() => waitsOnFifo(child.pid!));
    child.kill('SIGTERM');
    const exit = await new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    expect(exit).toEqual({ code: null, signal: 'SIGTERM' }); // a shell or Docker reports 143
    expect(stderr).toContain('SIGTERM received while starting; stopped before serving any request.');
  });

  it('says what is wrong with an unreadable config file', async () => {
    const file = await configFile({});
    const { chmod } = await import('node:fs/promises');
    await chmod(file, 0o000);
    // As root every file is readable: run as nobody when we are root, else as ourselves.
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const { spawnSync } = await import('node:child_process');
    const run = spawnSync(process.execPath, [CLI, 'mock', '--port', '0', '--config', file], { encoding: 'utf8', ...asNobody });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/Failed to read config file .*EACCES.*Make it readable by the user the mock runs as \(uid \d+\)/);
  });

  it('refuses a bad port, env value or flag with exit code 2, naming where it came from and where help is', async () => {
    const badPort = await runCli(['mock', '--port', 'eighty']);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('--port is "eighty"');
    expect(badPort.stderr).toContain('Run "beia mock --help" for the options and their environment variables.');
    const badEnv = await runCli(['mock'], { BEIA_MOCK_PORT: '70000' });
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toContain('BEIA_MOCK_PORT is "70000"');
    const badFlag = await runCli(['mock', '--colour']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toBe('beia mock: unknown option --colour.\nRun "beia mock --help" for the options and their environment variables.\n');
    const typo = await runCli(['mock', '--prot', '8081']);
    expect(typo.stderr).toBe(
      'beia mock: unknown option --prot. Did you mean --port?\nRun "beia mock --help" for the options and their environment variables.\n',
    );
    expect((await runCli(['mock', '--log-format', 'xml'])).stderr).toContain('--log-format is "xml"; expected pretty');
  });

  it('says where a config that is not JSON breaks, by line and column', async () => {
    const file = await configFile('{\n  "processing": {\n    "delayMs": 10,\n  }\n}\n');
    const run = await runCli(['mock', '--config', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('(line 4, column 3: })');
  });

  it("says what to do when the address is not this machine's (EADDRNOTAVAIL)", async () => {
    // Binding is local: no packet leaves; 192.0.2.1 (TEST-NET-1) is on no interface of this machine.
    const run = await runCli(['mock', '--host', '192.0.2.1', '--port', '0']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('No network interface of this machine has the address 192.0.2.1: use 127.0.0.1');
  });
});

describe('beia mock --https', () => {
  it('serves HTTPS with a CA it makes once and names in its banner; beia health asks it over TLS', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'beia-cli-tls-')), 'tls');
    const mock = await startCliMock(['--https', '--tls-dir', dir]);
    expect(mock.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+\//);
    expect(mock.stderr()).toContain(`tls       CA ${dir}/ca.pem (made now)`);
    expect(mock.stderr()).toContain(`NODE_EXTRA_CA_CERTS=${dir}/ca.pem`);
    expect(mock.stderr()).toContain(`curl --cacert ${dir}/ca.pem -X POST`);
    const port = new URL(mock.endpoint).port;
    const health = await runCli(['health'], { BEIA_MOCK_HTTPS: '1', BEIA_MOCK_PORT: port });
    expect(health.code).toBe(0);
    // Trusted through the variable a Node user sets: the vendor's own request shape, over TLS.
    const curl = curlStatus(`${dir}/ca.pem`, [
      '-X',
      'POST',
      mock.endpoint,
      '-H',
      'License-Id: 1234',
      '-F',
      `image=@${REPO}/examples/001.jpg`,
      '-F',
      'apiKey=5678',
      '-F',
      'licenseId=1234',
    ]);
    expect(curl).toBe('200');
    expect(await mock.stop()).toBe(0);
    // The next start keeps the CA, so what clients trust still holds.
    const again = await startCliMock(['--https', '--tls-dir', dir]);
    expect(again.stderr()).toContain('(kept from an earlier start)');
    await again.stop();
  }, 30_000);

  it('serves your own certificate with --tls-cert and --tls-key (BEIA_MOCK_TLS_CERT, BEIA_MOCK_TLS_KEY)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'beia-own-tls-'));
    const own = await localCertificate(dir, certificateNames('127.0.0.1'));
    for (const [args, env] of [
      [['--tls-cert', `${dir}/server.pem`, '--tls-key', `${dir}/server-key.pem`], {}],
      [[], { BEIA_MOCK_TLS_CERT: `${dir}/server.pem`, BEIA_MOCK_TLS_KEY: `${dir}/server-key.pem` }],
    ] as const) {
      const mock = await startCliMock([...args], env);
      expect(mock.endpoint).toMatch(/^https:/);
      expect(mock.stderr()).toContain('tls       your certificate (--tls-cert)');
      expect(curlStatus(own.caFile, [`${new URL(mock.endpoint).origin}/__admin/health`])).toBe('200');
      await mock.stop();
    }
  }, 30_000);

  it('refuses half a certificate pair, and a --tls-dir without --https', async () => {
    expect((await runCli(['mock', '--tls-cert', 'cert.pem'])).stderr).toContain('--tls-cert and --tls-key (BEIA_MOCK_TLS_CERT, BEIA_MOCK_TLS_KEY) go together');
    expect((await runCli(['mock', '--tls-dir', '/tmp/x'])).stderr).toContain('--tls-dir (BEIA_MOCK_TLS_DIR) says where --https keeps its CA');
    const missing = await runCli(['mock', '--port', '0', '--tls-cert', '/nonexistent/cert.pem', '--tls-key', '/nonexistent/key.pem']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Failed to read the TLS certificate /nonexistent/cert.pem');
  });
});

describe('beia mock logs', () => {
  const request = async (endpoint: string) => sendImage(endpoint, await jpeg());

  it('writes JSON lines in a pipe, and readable lines with --log-format pretty', async () => {
    const json = await startCliMock();
    await request(json.endpoint);
    await eventually(() => json.stdout().includes('\n'));
    expect(JSON.parse(json.stdout().split('\n')[0]!)).toMatchObject({ status: 200, licenseId: '1234', creditsRemaining: 99 });
    await json.stop();

    const pretty = await startCliMock(['--log-format', 'pretty']);
    await request(pretty.endpoint);
    await eventually(() => pretty.stdout().includes('\n'));
    expect(pretty.stdout()).toMatch(/^\d\d:\d\d:\d\d 200 POST \/beia-api\/v1\/image {2}license 1234 {2}credits 99 {2}\d+ ms {2}127\.0\.0\.1\n/);
    expect(pretty.stdout()).not.toContain('\u001b['); // no colours outside a terminal
    await pretty.stop();
  });

  it('is readable, in colour, on a terminal; NO_COLOR turns the colours off', async () => {
    // script(1) gives the mock a pseudo-terminal as its stdout, as a person's shell would.
    for (const noColor of [false, true]) {
      const child = spawn('script', ['-qfec', `${process.execPath} ${CLI} mock --port 0`, '/dev/null'], {
        env: { ...process.env, ...(noColor ? { NO_COLOR: '1' } : { NO_COLOR: '' }), TERM: 'xterm' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      try {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
        await eventually(() => /endpoint\s+http/.test(out), 10_000);
        const endpoint = /endpoint\s+(\S+)/.exec(out)![1]!;
        await request(endpoint);
        await eventually(() => / POST \/beia-api\/v1\/image/.test(out), 5_000);
        const line = out.split(/\r?\n/).find((l) => l.includes(' POST /beia-api/v1/image'))!;
        expect(line).toContain('license 1234  credits 99');
        expect(line.includes('\u001b[32m200\u001b[0m'), line).toBe(!noColor);
      } finally {
        child.kill('SIGKILL');
      }
    }
  }, 30_000);
});

describe('beia', () => {
  it('prints its version, its help, and refuses unknown commands', async () => {
    expect((await runCli(['--version'])).stdout.trim()).toBe(MOCK_VERSION);
    expect((await runCli(['help'])).stdout).toContain('beia mock [--host 127.0.0.1]');
    expect((await runCli(['mock', '--help'])).stdout).toContain('BEIA_MOCK_ADMIN_TOKEN');
    expect((await runCli(['mock', '--help'])).stdout).toContain('BEIA_MOCK_CONFIG_JSON');
    const unknown = await runCli(['serve']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "serve"');
  });
});

describe('beia health', () => {
  it('exits 0 and prints the health of a running mock', async () => {
    const mock = await startCliMock();
    const base = mock.endpoint.replace('/beia-api/v1/image', '');
    const run = await runCli(['health', base]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'ok', node: process.version, inFlight: 0 });
    // By default it asks 127.0.0.1 on BEIA_MOCK_PORT, as in the Docker image.
    const port = new URL(base).port;
    expect((await runCli(['health'], { BEIA_MOCK_PORT: port })).code).toBe(0);
    expect(await mock.stop()).toBe(0);
  });

  it('exits 1 naming the URL when nothing answers, and 2 for a bad argument', async () => {
    const down = await runCli(['health', 'http://127.0.0.1:9']);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('beia health: http://127.0.0.1:9/__admin/health is not healthy');
    const bad = await runCli(['health', 'not a url']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"not a url" is not a URL');
  });
});

/** The status curl gets for a request over TLS that trusts `caFile`. */
function curlStatus(caFile: string, request: string[]): string {
  return execFileSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', caFile, ...request]).toString();
}
