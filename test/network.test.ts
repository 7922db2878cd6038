import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BeiaClient, BeiaNetworkError, describeRoute, proxyFromEnvironment } from '../src/client/index.js';
import { certificateNames, localCertificate, type RunningMockServer } from '../src/mock/index.js';
import { CLI } from './helpers/cli.js';
import { jpeg } from './helpers/images.js';
import { describeWithProxy, startTinyproxy } from './helpers/proxy.js';
import { startTestMock } from './helpers/server.js';

let image: Buffer;
beforeAll(async () => {
  image = await jpeg();
});

/** A mock over HTTPS with a CA of its own, and that CA's file. */
async function httpsMock(): Promise<{ mock: RunningMockServer; caFile: string }> {
  const tls = await localCertificate(await mkdtemp(join(tmpdir(), 'beia-tls-')), certificateNames('127.0.0.1'));
  return { mock: await startTestMock({}, { tls }), caFile: tls.caFile };
}

function beiaProcess(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(https?|no)_proxy$/i.test(name)));
    const child = spawn(process.execPath, [CLI, 'process', ...args], {
      env: { ...clean, BEIA_LICENSE_ID: '1234', BEIA_API_KEY: '5678', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function oneImage(): Promise<{ input: string; out: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'beia-net-'));
  await writeFile(join(dir, 'photo.jpg'), image);
  return { input: join(dir, 'photo.jpg'), out: join(dir, 'out') };
}

describe('the client reaches the API where teams are', () => {
  it('trusts an extra CA (beia mock --https) given as ca, and refuses the certificate without it', async () => {
    const { mock, caFile } = await httpsMock();
    const trusting = new BeiaClient({ endpoint: mock.endpoint, licenseId: '1234', apiKey: '5678', ca: await readFile(caFile), retries: 0 });
    expect((await trusting.process(image)).creditsRemaining).toBe(99);
    const plain = new BeiaClient({ endpoint: mock.endpoint, licenseId: '1234', apiKey: '5678', retries: 0 });
    const refused = await plain.process(image).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(BeiaNetworkError);
    expect((refused as Error).message).toMatch(/certificate/i);
  });

  it('sends from the source address it is given (the registered static IP)', async () => {
    const mock = await startTestMock({ licenses: [{ licenseId: '1234', apiKey: '5678', allowedIps: ['127.0.0.2'] }] });
    const client = new BeiaClient({ endpoint: mock.endpoint, licenseId: '1234', apiKey: '5678', sourceAddress: '127.0.0.2', retries: 0 });
    expect((await client.process(image)).creditsRemaining).toBe(99);
    expect((await mock.store.listJournal()).map((entry) => entry.remoteAddress)).toEqual(['127.0.0.2']);
    expect(() => new BeiaClient({ licenseId: 'a', apiKey: 'b', sourceAddress: 'eth0' })).toThrow(/sourceAddress is "eth0"; expected an IP address/);
  });

  it('reads the proxy variables as curl does, and says where a request goes without the credentials', () => {
    expect(proxyFromEnvironment({})).toBeUndefined();
    const choice = proxyFromEnvironment({ HTTPS_PROXY: 'http://u:secret@proxy:3128', https_proxy: 'http://lower:3128', NO_PROXY: 'localhost,.internal' });
    expect(choice).toEqual({ https: 'http://lower:3128', noProxy: 'localhost,.internal' });
    const upper = proxyFromEnvironment({ HTTPS_PROXY: 'http://u:secret@proxy:3128' })!;
    expect(describeRoute('https://api.example/x', upper)).toBe('through the proxy http://proxy:3128/');
    expect(describeRoute('https://db.internal/x', choice)).toBe('direct');
    expect(describeRoute('http://api.example/x', upper)).toBe('direct'); // HTTPS_PROXY is for https only
  });
});

describeWithProxy('through a real forward proxy (tinyproxy)', () => {
  it('beia process reaches the HTTPS mock through HTTPS_PROXY with credentials, trusting --ca-file; the proxy logs the CONNECT', async () => {
    const { mock, caFile } = await httpsMock();
    const proxy = await startTinyproxy({ credentials: { user: 'ci', password: 'pr0xy-secret' } });
    try {
      const { input, out } = await oneImage();
      const run = await beiaProcess([input, '--out', out, '--ca-file', caFile], { BEIA_ENDPOINT: mock.endpoint, HTTPS_PROXY: proxy.url });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/route https:\/\/127\.0\.0\.1:\d+\/beia-api\/v1\/image through the proxy http:\/\/127\.0\.0\.1:\d+\//);
      expect(run.stdout + run.stderr).not.toContain('pr0xy-secret');
      expect(proxy.log()).toContain(`CONNECT 127.0.0.1:${mock.port}`);
      expect((await mock.store.getLicense('1234'))?.credits).toBe(99);
    } finally {
      await proxy.stop();
    }
  });

  it('goes direct for a host in NO_PROXY, and through --proxy when it is given', async () => {
    const { mock, caFile } = await httpsMock();
    const proxy = await startTinyproxy();
    try {
      const bypass = await oneImage();
      const direct = await beiaProcess([bypass.input, '--out', bypass.out, '--ca-file', caFile], {
        BEIA_ENDPOINT: mock.endpoint,
        HTTPS_PROXY: proxy.url,
        NO_PROXY: 'localhost,127.0.0.1',
      });
      expect(direct.code).toBe(0);
      // (the start-up probe connects too, and sends no request)
      expect(proxy.log()).not.toMatch(/Request \(file descriptor \d+\): CONNECT/);
      const flagged = await oneImage();
      const viaFlag = await beiaProcess([flagged.input, '--out', flagged.out, '--ca-file', caFile, '--proxy', proxy.url], { BEIA_ENDPOINT: mock.endpoint });
      expect(viaFlag.code).toBe(0);
      expect(proxy.log()).toContain(`CONNECT 127.0.0.1:${mock.port}`);
    } finally {
      await proxy.stop();
    }
  });

  it('beia conformance passes against the HTTPS mock through the proxy, trusting --ca-file, and names the route without credentials', async () => {
    const { mock, caFile } = await httpsMock();
    const proxy = await startTinyproxy({ credentials: { user: 'ci', password: 'pr0xy-secret' } });
    try {
      const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(https?|no)_proxy$/i.test(name)));
        const child = spawn(
          process.execPath,
          [CLI, 'conformance', '--target', mock.endpoint, '--admin', '--skip', 'load', '--ca-file', caFile, '--unlisted-source-address', '127.0.0.2'],
          { env: { ...clean, BEIA_LICENSE_ID: '1234', BEIA_API_KEY: '5678', HTTPS_PROXY: proxy.url }, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stderr).toMatch(/route https:\/\/127\.0\.0\.1:\d+\/beia-api\/v1\/image through the proxy http:\/\/127\.0\.0\.1:\d+\//);
      expect(run.stdout + run.stderr).not.toContain('pr0xy-secret');
      // Through a proxy the target sees the proxy's address: D8 is not verified, and says why.
      expect(run.stdout).toMatch(/D8-403-unlisted-address.*the target sees the proxy's address/);
      expect(proxy.log()).toContain(`CONNECT 127.0.0.1:${mock.port}`);
    } finally {
      await proxy.stop();
    }
  }, 120_000);

  it('refuses a CA file that is not one, naming it', async () => {
    const { input, out } = await oneImage();
    const run = await beiaProcess([input, '--out', out, '--ca-file', input], { BEIA_ENDPOINT: 'https://127.0.0.1:9/beia-api/v1/image' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`The CA file ${input} (--ca-file, BEIA_CA_FILE) holds no PEM certificate`);
  });
});
