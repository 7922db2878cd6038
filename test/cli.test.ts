import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MOCK_VERSION } from '../src/mock/index.js';
import { runCli, startCliMock } from './helpers/cli.js';
import { jpeg } from './helpers/images.js';
import { sendImage } from './helpers/server.js';

async function configFile(content: unknown): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'beia-cli-')), 'mock.json');
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('beia mock', () => {
  it('prints the endpoint and the credentials it accepts, and serves them', async () => {
    const mock = await startCliMock();
    expect(mock.stderr()).toMatch(/license\s+licenseId 1234\s+apiKey 5678\s+credits 100/);
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
    const mock = await startCliMock([], { BEIA_MOCK_CONFIG: await configFile({ licenses: [{ licenseId: 'env', apiKey: 'k', credits: 7 }] }), BEIA_MOCK_QUIET: '1' });
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
    [{ licenses: [{ licenseId: '1', apiKey: 'k', credits: -5 }] }, /Invalid config file .*mock\.json: config\.licenses\[0\]\.credits: expected an integer from 0/],
    [{ processing: { delay: 5 } }, /config\.processing\.delay: expected one of the known keys/],
    ['{ not json', /Failed to parse config file .*: .*The file must be JSON/],
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

  it('refuses to listen beyond loopback without an admin token', async () => {
    const { code, stderr } = await runCli(['mock', '--host', '0.0.0.0', '--port', '0']);
    expect(code).toBe(1);
    expect(stderr).toContain('Failed to start the mock on 0.0.0.0: the admin API would be open to the network. Pass --admin-token');
  });

  it('refuses a bad port or flag with exit code 2 and the usage', async () => {
    const badPort = await runCli(['mock', '--port', 'eighty']);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('--port is "eighty"');
    const badFlag = await runCli(['mock', '--colour']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain("Unknown option '--colour'");
  });
});

describe('beia', () => {
  it('prints its version, its help, and refuses unknown commands', async () => {
    expect((await runCli(['--version'])).stdout.trim()).toBe(MOCK_VERSION);
    expect((await runCli(['help'])).stdout).toContain('beia mock [--host 127.0.0.1]');
    expect((await runCli(['mock', '--help'])).stdout).toContain('BEIA_MOCK_ADMIN_TOKEN');
    const unknown = await runCli(['serve']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "serve"');
  });
});
