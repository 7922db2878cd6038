import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, expect, it } from 'vitest';
import { LISTENING_LINE as READY, MockAdminClient } from '../../src/mock/index.js';
import { REPO } from '../helpers/cli.js';
import {
  describeWithDocker,
  dockerCli,
  exitCodeOf,
  freePort,
  containerWaitsOnFifo,
  IMAGE,
  inspect,
  labelledVolume,
  logsOf,
  mappableNetwork,
  runContainer,
  waitForLog,
} from '../helpers/docker.js';
import { decode, jpeg } from '../helpers/images.js';
import { eventually, sendImage } from '../helpers/server.js';

const run = promisify(execFile);

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'beia-docker-'));
}

/** The host port docker mapped to the container's 8080. */
async function mappedPort(id: string): Promise<number> {
  const port = (await dockerCli(['port', id, '8080/tcp'])).stdout.trim().split('\n')[0] ?? '';
  return Number(port.split(':').pop());
}

describeWithDocker('the beia-kit/mock image', () => {
  let input: Buffer;
  beforeAll(async () => {
    input = await jpeg(120, 80);
  });

  it("with no settings, answers the vendor page's curl line on the mapped port, from a private-range address", async () => {
    const network = await mappableNetwork();
    // The only flags: a mapped port (as every user gives) and, on an engine without the default
    // bridge, a network where mapping works.
    const id = await runContainer([...network, '-p', '127.0.0.1::8080']);
    const banner = await waitForLog(id, READY);
    expect(banner).toContain('listening on 0.0.0.0:8080 (every address)');
    expect(banner).toMatch(/admin .*token required: Authorization: Bearer [\w-]{20,} +\(made for this run/);
    expect(banner).toMatch(/license +licenseId 1234 +apiKey 5678 +credits 100 +from 127\.0\.0\.1, ::1, 10\.0\.0\.0\/8/);
    // It says it is in a container, and how the host reaches its port.
    expect(banner).toContain(
      '  container in a container: 8080 is its port inside. From the host, call the port -p maps to it (docker port <container> 8080), or 8080 itself with --network host',
    );

    const dir = await tempDir();
    await writeFile(join(dir, '001.jpg'), input);
    const endpoint = `http://127.0.0.1:${await mappedPort(id)}/beia-api/v1/image`;
    // The vendor's line with the URL and the image path changed, -D to see the headers.
    const curl = await run(
      'curl',
      [
        '-sS',
        '-X',
        'POST',
        endpoint,
        '-H',
        'License-Id: 1234',
        '-F',
        'image=@001.jpg;filename=001.jpg',
        '-F',
        'apiKey=5678',
        '-F',
        'licenseId=1234',
        '-o',
        'result.png',
        '-D',
        '-',
      ],
      { cwd: dir },
    );
    expect(curl.stdout).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(curl.stdout).toMatch(/credits-remaining: 99/i);
    expect(await decode(await readFile(join(dir, 'result.png')))).toMatchObject({ format: 'png', width: 120, height: 80 });
    // Through the mapping, the request came from the network's gateway: a private address.
    // The line is written once the answer is sent: wait for it rather than read the logs at once.
    const logLine = JSON.parse((await waitForLog(id, /"msg":"request"/)).split('\n').find((l) => l.includes('"msg":"request"'))!) as {
      remoteAddress: string;
      status: number;
    };
    expect(logLine.status).toBe(200);
    expect(logLine.remoteAddress).toMatch(/^(10\.|172\.(1[6-9]|2\d|3[01])\.|192\.168\.|f[cd])/);
    // The dashboard's files made it into the image (the build copies them next to the code).
    expect(banner).toMatch(/dashboard http:\/\/\S+\/__admin\/ui/);
    for (const file of ['ui', 'ui/dashboard.js', 'ui/dashboard.css']) {
      const page = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', endpoint.replace('/beia-api/v1/image', `/__admin/${file}`)]);
      expect(page.stdout).toBe('200');
    }
  });

  it('with BEIA_MOCK_PUBLIC_URL, prints the mapped URL, and its curl line works from the host as printed', async () => {
    const network = await mappableNetwork();
    const port = await freePort();
    const id = await runContainer([...network, '-p', `127.0.0.1:${port}:8080`, '-e', `BEIA_MOCK_PUBLIC_URL=http://127.0.0.1:${port}`]);
    const banner = await waitForLog(id, /^ {2}try /m);
    expect(banner).toContain(`  public    http://127.0.0.1:${port} (BEIA_MOCK_PUBLIC_URL), mapped to port 8080 of this container: the URLs below use it`);
    expect(banner).toContain(`  endpoint  http://127.0.0.1:${port}/beia-api/v1/image\n`);
    const tryLine = /^ {2}try {7}(curl .*)$/m.exec(banner)![1]!;
    expect(tryLine).toContain('image=@photo.jpg'); // the image has no examples/ folder
    const dir = await tempDir();
    await writeFile(join(dir, 'photo.jpg'), input);
    await run('bash', ['-c', tryLine], { cwd: dir });
    expect(await decode(await readFile(join(dir, 'result.png')))).toMatchObject({ format: 'png', width: 120, height: 80 });
  });

  it('docker stop lets the request in flight finish, and exits 0 within 5 s', async () => {
    const network = await mappableNetwork();
    const id = await runContainer([...network, '-p', '127.0.0.1::8080', '-e', 'BEIA_MOCK_CONFIG_JSON={"processing":{"delayMs":1500}}']);
    await waitForLog(id, READY);
    const base = `http://127.0.0.1:${await mappedPort(id)}`;
    const inFlight = sendImage(`${base}/beia-api/v1/image`, input);
    const admin = new MockAdminClient(base);
    await eventually(async () => (await admin.health()).inFlight === 1);
    const started = Date.now();
    const stop = await dockerCli(['stop', id]);
    const took = Date.now() - started;
    expect(stop.code).toBe(0);
    expect((await inFlight).status).toBe(200);
    expect(took).toBeLessThan(5_000);
    expect(await inspect(id, '{{.State.ExitCode}}')).toBe('0');
    const logs = await logsOf(id);
    expect(logs).toContain('SIGTERM received, finishing the requests in flight...');
    expect(logs).toContain('beia mock: stopped.');
  });

  it('runs as a non-root user, with tini as process 1 and a health check on /__admin/health', async () => {
    expect(await inspect(IMAGE, '{{.Config.User}}')).toBe('node');
    expect(await inspect(IMAGE, '{{json .Config.ExposedPorts}}')).toBe('{"8080/tcp":{}}');
    const healthcheck = JSON.parse(await inspect(IMAGE, '{{json .Config.Healthcheck.Test}}')) as string[];
    expect(healthcheck).toEqual(['CMD', 'node', 'dist/cli/index.js', 'health']);

    const id = await runContainer(['--network', 'host', '-e', `BEIA_MOCK_PORT=${await freePort()}`]);
    await waitForLog(id, READY);
    expect((await dockerCli(['exec', id, 'id', '-u'])).stdout.trim()).toBe('1000');
    expect((await dockerCli(['exec', id, 'cat', '/proc/1/comm'])).stdout.trim()).toBe('tini');
    // The health check's own command, run the way Docker runs it.
    const health = await dockerCli(['exec', id, ...healthcheck.slice(1)]);
    expect(health.code).toBe(0);
    expect(JSON.parse(health.stdout)).toMatchObject({ status: 'ok' });
  });

  it('runs on the Node of scripts/node-versions.sh (24), and says which: node -v, its label, the banner and the health check', async () => {
    const major = /^BEIA_NODE_24=(\d+)\./m.exec(await readFile(join(REPO, 'scripts/node-versions.sh'), 'utf8'))![1]!;
    const version = await dockerCli(['run', '--rm', '--network', 'none', '--entrypoint', 'node', IMAGE, '-v']);
    expect(version.code, version.stderr).toBe(0);
    const node = version.stdout.trim();
    expect(node).toMatch(new RegExp(`^v${major}\\.\\d+\\.\\d+$`));
    expect(await inspect(IMAGE, '{{index .Config.Labels "beia-kit.node-version"}}')).toBe(node.slice(1));

    const id = await runContainer(['--network', 'host', '-e', `BEIA_MOCK_PORT=${await freePort()}`]);
    expect(await waitForLog(id, READY)).toMatch(new RegExp(`runtime +Node ${node.replaceAll('.', '\\.')} \\(linux-`));
    const health = await dockerCli(['exec', id, 'node', 'dist/cli/index.js', 'health']);
    expect(JSON.parse(health.stdout)).toMatchObject({ status: 'ok', node });
  });

  it('shadows no official image: a base beia-kit made offline is named under beia-kit/', async () => {
    const names = (await dockerCli(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.split('\n').filter((name) => name && !name.includes('<none>'));
    const made: string[] = [];
    for (const name of names) {
      // make-base-image.sh's label names the image it made (an image built on one inherits it under another name).
      const description = await inspect(name, '{{index .Config.Labels "org.opencontainers.image.description"}}');
      if (description.startsWith(`${name} made offline by beia-kit docker/make-base-image.sh`)) made.push(name);
    }
    expect(made.filter((name) => !name.startsWith('beia-kit/'))).toEqual([]);
    const base = await inspect(IMAGE, '{{index .Config.Labels "org.opencontainers.image.base.name"}}');
    if (!/^node:\d+-bookworm-slim$/.test(base)) expect(made).toContain(base);
  });

  it('keeps credits in a file store on a named volume, from one container to the next', async () => {
    const volume = await labelledVolume();
    const port = await freePort();
    const flags = [
      '--network',
      'host',
      '-e',
      `BEIA_MOCK_PORT=${port}`,
      '-e',
      'BEIA_MOCK_ADMIN_TOKEN=t',
      '-v',
      `${volume}:/state`,
      '-e',
      'BEIA_MOCK_STORE=file:/state/state.json',
    ];
    const first = await runContainer(flags);
    await waitForLog(first, READY);
    expect(await logsOf(first)).toMatch(/store\s+file:\/state\/state.json\s+new: seeded from the config/);
    const endpoint = `http://127.0.0.1:${port}/beia-api/v1/image`;
    for (let i = 0; i < 2; i++) expect((await sendImage(endpoint, input)).status).toBe(200);
    expect((await dockerCli(['stop', first])).code).toBe(0);
    expect(await exitCodeOf(first)).toBe(0);

    const second = await runContainer(flags);
    await waitForLog(second, READY);
    expect(await logsOf(second)).toMatch(/loaded: the config's licenses seed an empty store only/);
    expect((await new MockAdminClient(`http://127.0.0.1:${port}`, { token: 't' }).license('1234')).credits).toBe(98);
  });

  it('holds production dependencies only: no dev dependency, npm cache, build tool or build CA', async () => {
    const look = await dockerCli([
      'run',
      '--rm',
      '--entrypoint',
      'sh',
      IMAGE,
      '-c',
      'echo "modules: $(ls node_modules node_modules/@*)"; echo "homes: $(ls -A /home/node /root 2>/dev/null)"; echo "tmp: $(ls -A /tmp)"; echo "tools: $(command -v gcc g++ make python3 tsc)"; ' +
        'echo "pems: $(find / -xdev \\( -name "*.pem" -path "*certs*" -o -name "extra-ca.pem" -o -name "build-ca.pem" \\) -not -path "/etc/ssl/*" -not -path "/usr/share/*" 2>/dev/null)"',
    ]);
    expect(look.code).toBe(0);
    const section = (name: string) => new RegExp(`^${name}: ([^]*?)(?=^\\w+: |(?![^]))`, 'm').exec(look.stdout)?.[1] ?? '';
    for (const dev of ['vitest', 'typescript', 'axios', 'form-data', 'testcontainers', 'pact']) expect(section('modules')).not.toContain(dev);
    for (const prod of ['hono', 'busboy', 'sharp', 'undici']) expect(section('modules')).toContain(prod);
    expect(section('homes')).not.toContain('.npm');
    expect(section('tmp').trim()).toBe('');
    expect(section('tools').trim()).toBe('');
    expect(section('pems').trim()).toBe('');
    // No test files were compiled into it.
    const tests = await dockerCli(['run', '--rm', '--entrypoint', 'sh', IMAGE, '-c', 'find dist -name "*.test.js" | wc -l']);
    expect(tests.stdout.trim()).toBe('0');
    // Small: what the image adds to its base (node:24-bookworm-slim, or ours made offline) is the app
    // and its production dependencies.
    const base = Number(await inspect(await inspect(IMAGE, '{{index .Config.Labels "org.opencontainers.image.base.name"}}'), '{{.Size}}'));
    const ours = Number(await inspect(IMAGE, '{{.Size}}'));
    expect(ours - base).toBeLessThan(60e6);
  });

  it('takes its config from a mounted file, and refuses a bad one with the same message as outside Docker', async () => {
    const dir = await tempDir();
    const good = join(dir, 'mock.json');
    await writeFile(good, JSON.stringify({ licenses: [{ licenseId: 'team', apiKey: 'k', credits: 7 }] }));
    await chmod(good, 0o644);
    const port = await freePort();
    const id = await runContainer([
      '--network',
      'host',
      '-e',
      `BEIA_MOCK_PORT=${port}`,
      '-v',
      `${good}:/config/mock.json:ro`,
      '-e',
      'BEIA_MOCK_CONFIG=/config/mock.json',
    ]);
    const banner = await waitForLog(id, READY);
    expect(banner).toContain('config    /config/mock.json');
    expect(banner).toMatch(/licenseId team +apiKey k +credits 7/);
    const res = await sendImage(`http://127.0.0.1:${port}/beia-api/v1/image`, input, { licenseId: 'team', apiKey: 'k' });
    expect([res.status, res.headers['credits-remaining']]).toEqual([200, '6']);

    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ licenses: [{ licenseId: 'team', apiKey: 'k', credits: -1 }] }));
    await chmod(bad, 0o644);
    const refused = await runContainer(['--network', 'host', '-v', `${bad}:/config/mock.json:ro`, '-e', 'BEIA_MOCK_CONFIG=/config/mock.json']);
    expect(await exitCodeOf(refused)).toBe(1);
    const outside = await run(process.execPath, [join(REPO, 'dist/cli/index.js'), 'mock', '--config', bad]).catch((error: { stderr: string }) => error);
    const message = 'config.licenses[0].credits: expected an integer from 0';
    expect(await logsOf(refused)).toContain(`beia mock: Invalid config file /config/mock.json: ${message}`);
    expect(outside.stderr).toContain(`beia mock: Invalid config file ${bad}: ${message}`);
  });

  it.each([
    ['a config file that is not mounted', [], 1, 'Failed to read config file /config/mock.json: ENOENT'],
    ['a bad env value', ['-e', 'BEIA_MOCK_PORT=eighty'], 2, 'BEIA_MOCK_PORT is "eighty"; expected a port number'],
    ['an unknown quiet switch', ['-e', 'BEIA_MOCK_QUIET=perhaps'], 2, 'BEIA_MOCK_QUIET is "perhaps"'],
    ['a config file and inline config at once', ['-e', 'BEIA_MOCK_CONFIG_JSON={}'], 2, 'keep one'],
  ])('ends with a clear message and a non-zero exit for %s', async (_name, flags, code, message) => {
    const id = await runContainer(['--network', 'host', '-e', 'BEIA_MOCK_CONFIG=/config/mock.json', ...flags]);
    expect(await exitCodeOf(id)).toBe(code);
    expect(await logsOf(id)).toContain(message);
  });

  it('says which user cannot read a mounted config', async () => {
    const file = join(await tempDir(), 'secret.json');
    await writeFile(file, '{}');
    await chmod(file, 0o000);
    const id = await runContainer(['--network', 'host', '-v', `${file}:/config/mock.json:ro`, '-e', 'BEIA_MOCK_CONFIG=/config/mock.json']);
    expect(await exitCodeOf(id)).toBe(1);
    expect(await logsOf(id)).toMatch(/Failed to read config file \/config\/mock\.json: EACCES.*readable by the user the mock runs as \(uid 1000\)/);
  });

  it('a second container on the same host port exits 1 saying the port is taken; a mapped one is refused by docker', async () => {
    const port = await freePort();
    const first = await runContainer(['--network', 'host', '-e', `BEIA_MOCK_PORT=${port}`]);
    await waitForLog(first, READY);
    const second = await runContainer(['--network', 'host', '-e', `BEIA_MOCK_PORT=${port}`]);
    expect(await exitCodeOf(second)).toBe(1);
    expect(await logsOf(second)).toContain(`Failed to listen on 0.0.0.0:${port}`);
    expect(await logsOf(second)).toContain('Another process uses that port');

    const network = await mappableNetwork();
    const hostPort = await freePort();
    const mapped = await runContainer([...network, '-p', `127.0.0.1:${hostPort}:8080`]);
    await waitForLog(mapped, READY);
    await expect(runContainer([...network, '-p', `127.0.0.1:${hostPort}:8080`])).rejects.toThrow(/already allocated|address already in use/);
  });

  it('a docker stop while it is still starting ends it at once with 143, never a hang', async () => {
    // Its config is a FIFO nobody writes: the mock stays in start-up, as with a stuck mount.
    const dir = await tempDir();
    const fifo = join(dir, 'stuck.json');
    await run('mkfifo', [fifo]);
    await chmod(fifo, 0o666);
    const id = await runContainer(['--network', 'host', '-v', `${fifo}:/config/mock.json`, '-e', 'BEIA_MOCK_CONFIG=/config/mock.json']);
    await eventually(() => containerWaitsOnFifo(id), 10_000); // reading its config, after its signal handlers are in place
    expect(await inspect(id, '{{.State.Running}}')).toBe('true');
    const started = Date.now();
    await dockerCli(['stop', id]);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await inspect(id, '{{.State.ExitCode}}')).toBe('143');
    expect(await logsOf(id)).toContain('SIGTERM received while starting; stopped before serving any request.');
  });
});
