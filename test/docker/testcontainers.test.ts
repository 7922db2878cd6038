import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Network, type StartedNetwork } from 'testcontainers';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NoCreditsError, ServerError } from '../../src/client/index.js';
import { BEIA_MOCK_IMAGE, BeiaMockContainer, MockAdminClient, MockAdminError, type StartedBeiaMockContainer } from '../../src/testcontainers/index.js';
import { ryukImage } from '../../src/testcontainers/beia-mock-container.js';
import { REPO, runCli } from '../helpers/cli.js';
import { describeWithDocker, docker, dockerCli, IMAGE, labelled } from '../helpers/docker.js';
import { decode, jpeg } from '../helpers/images.js';

const started: StartedBeiaMockContainer[] = [];
let network: StartedNetwork | undefined;

/** The default, port-mapped mode; on an engine without the default bridge, on a network of our own. */
async function mapped(container: BeiaMockContainer): Promise<StartedBeiaMockContainer> {
  if (!docker.hasBridge) container.withNetwork((network ??= await new Network().start()));
  const mock = await labelled(container).start();
  started.push(mock);
  return mock;
}

async function hostNetwork(container: BeiaMockContainer): Promise<StartedBeiaMockContainer> {
  const mock = await labelled(container).withHostNetwork().start();
  started.push(mock);
  return mock;
}

/** The error a start that must fail failed with; a start that succeeds fails the test. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the container not to start, and it started');
}

afterAll(async () => {
  await Promise.all(started.splice(0).map((mock) => mock.stop()));
  await network?.stop();
});

describeWithDocker('beia-kit/testcontainers: BeiaMockContainer', () => {
  let input: Buffer;
  beforeAll(async () => {
    input = await jpeg(160, 120);
  });

  it('pins the image of this version, the one npm run docker:build makes', () => {
    expect(BEIA_MOCK_IMAGE).toBe(IMAGE);
  });

  it('starts on a mapped port; its client gets a PNG and a multipart/mixed answer, and the credits go down', async () => {
    const mock = await mapped(new BeiaMockContainer().withLicense({ licenseId: 'ci', apiKey: 'ci-key', credits: 5 }));
    expect(mock.getEndpoint()).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/beia-api\/v1\/image$/);
    expect(mock.getEndpoint()).not.toContain(':8080/');
    expect(mock.getLicenses().map((l) => l.licenseId)).toEqual(['ci']);

    const client = mock.client();
    const png = await client.process(input);
    expect(await decode(png.result)).toMatchObject({ format: 'png', width: 160, height: 120 });
    expect(png.creditsRemaining).toBe(4);
    const bundle = await client.process(input, { includeCroppedImage: true });
    expect(await decode(bundle.result)).toMatchObject({ format: 'png' });
    expect(await decode(bundle.cropped!)).toMatchObject({ format: 'png' });
    expect(bundle.creditsRemaining).toBe(3);

    const journal = await mock.admin.journal({ licenseId: 'ci' });
    expect(journal.map((e) => e.status)).toEqual([200, 200]);
    // The mapped port's traffic reaches the container from a private address, which the
    // license accepts without naming any.
    expect(journal[0]!.remoteAddress).toMatch(/^(10\.|172\.(1[6-9]|2\d|3[01])\.|192\.168\.|f[cd])/);
  });

  it('is steered through its admin API: credits, faults, and a token it made for the run', async () => {
    const mock = await mapped(new BeiaMockContainer().withProcessingDelay(50));
    expect(mock.getAdminToken()).toMatch(/^[\w-]{20,}$/);
    expect(mock.getAdminUrl()).toBe(mock.getEndpoint().replace('/beia-api/v1/image', '/__admin'));
    const client = mock.client({ retries: 0 });

    await mock.admin.armFault({ type: 'error', count: 1, licenseId: '1234' });
    await expect(client.process(input)).rejects.toBeInstanceOf(ServerError);
    expect((await client.process(input)).creditsRemaining).toBe(99);

    await mock.admin.setCredits('1234', 0);
    await expect(client.process(input)).rejects.toBeInstanceOf(NoCreditsError);

    const anonymous = new MockAdminClient(mock.getUrl());
    await expect(anonymous.licenses()).rejects.toBeInstanceOf(MockAdminError);
    expect((await anonymous.health()).status).toBe('ok');
    await mock.admin.reset();
    expect((await mock.admin.license('1234')).credits).toBe(100);

    // A license of its own for one test, usable at once from the host.
    const own = await mock.createLicense({ credits: 1, ttlSeconds: 60 });
    const ownClient = mock.client({ licenseId: own.licenseId, apiKey: own.apiKey, retries: 0 });
    expect((await ownClient.process(input)).creditsRemaining).toBe(0);
    await expect(ownClient.process(input)).rejects.toBeInstanceOf(NoCreditsError);
    await mock.verify({ licenseId: own.licenseId, status: 200 }, { exactly: 1 });
    await mock.verify({ licenseId: own.licenseId, code: 'no_credits' }, { exactly: 1 });
    expect(await mock.admin.deleteLicense(own.licenseId)).toEqual({ deleted: own.licenseId });
    const metrics = await fetch(`${mock.getAdminUrl()}/metrics`, { headers: { Authorization: `Bearer ${mock.getAdminToken()}` } });
    expect(await metrics.text()).toMatch(/^beia_mock_process_cpu_user_seconds_total /m);
  });

  it('takes a config file or object, with withLicense and withProcessingDelay on top', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'beia-tc-')), 'mock.json');
    await writeFile(file, JSON.stringify({ licenses: [{ licenseId: 'from-file', apiKey: 'f', credits: 9 }], rules: { errorBody: 'text' } }));
    const mock = await hostNetwork(
      new BeiaMockContainer().withConfig(file).withLicense({ licenseId: 'added', apiKey: 'a', credits: 2 }).withProcessingDelay(20).withAdminToken('chosen'),
    );
    expect(mock.getEndpoint()).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/beia-api\/v1\/image$/);
    expect(mock.getAdminToken()).toBe('chosen');
    expect(mock.getLicenses().map((l) => [l.licenseId, l.credits])).toEqual([
      ['from-file', 9],
      ['added', 2],
    ]);
    // On the host's network the mock listens on loopback, and a license without allowedIps takes loopback.
    expect(mock.getLicenses()[1]!.allowedIps).toEqual(['127.0.0.1', '::1']);
    expect((await mock.client({ licenseId: 'added' }).process(input)).creditsRemaining).toBe(1);
    const res = await fetch(mock.getEndpoint(), { method: 'POST', headers: { 'License-Id': 'from-file' } });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('text/plain'); // rules.errorBody from the file
  });

  it('refuses a bad config before any container is created, naming the field', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const mark = { 'beia-kit.case': randomUUID() };
    await expect(
      labelled(new BeiaMockContainer())
        .withLabels(mark)
        .withConfig({ licenses: [{ licenseId: 'x', apiKey: 'k', credits: -1 }] })
        .start(),
    ).rejects.toThrow('Invalid BeiaMockContainer config: config.licenses[0].credits: expected an integer from 0');
    await expect(labelled(new BeiaMockContainer()).withLabels(mark).withConfig('/nonexistent/mock.json').start()).rejects.toThrow(
      'BeiaMockContainer.withConfig: Failed to read config file /nonexistent/mock.json: ENOENT',
    );
    expect(() => new BeiaMockContainer().withProcessingDelay(-5)).toThrow('expected a whole number of milliseconds');
    // The engine saw no container of these two: not created, not even created and removed.
    const until = String(Math.floor(Date.now() / 1000) + 1);
    const events = await dockerCli([
      'events',
      '--since',
      String(since),
      '--until',
      until,
      '--filter',
      `label=beia-kit.case=${mark['beia-kit.case']}`,
      '--format',
      '{{.Action}}',
    ]);
    expect(events.code).toBe(0);
    expect(events.stdout.trim()).toBe('');
  });

  it('on the host network, two containers started at once each get a port of their own', async () => {
    const [a, b] = await Promise.all([hostNetwork(new BeiaMockContainer()), hostNetwork(new BeiaMockContainer())]);
    expect(a.getEndpoint()).not.toBe(b.getEndpoint());
    expect((await a.admin.health()).status).toBe('ok');
    expect((await b.admin.health()).status).toBe('ok');
  });

  it('when the container fails, says why with its last log lines', async () => {
    const error = await rejection(hostNetwork(new BeiaMockContainer().withEnvironment({ BEIA_MOCK_QUIET: 'perhaps' })));
    expect(error.message).toContain(`Failed to start the beia mock container (${IMAGE})`);
    expect(error.message).toContain('Its last log lines:');
    expect(error.message).toContain('BEIA_MOCK_QUIET is "perhaps"');
  });

  it('never pulls a beia-kit/mock image: a missing one says how to build it', async () => {
    const error = await rejection(new BeiaMockContainer('beia-kit/mock:0.0.0-not-built').withHostNetwork().start());
    expect(error.message).toBe(
      'Failed to start the beia mock container: beia-kit/mock:0.0.0-not-built is not on this Docker engine, and images named beia-kit/mock are never pulled. Build it in beia-kit with "npm run docker:build" (docs/docker.md).',
    );
  });

  it('a registry image that cannot be pulled: the error names it, says it is not on this engine, and how to build ours', async () => {
    const error = await rejection(labelled(new BeiaMockContainer('registry.invalid/acme/beia-kit-mock:0.1.0')).withHostNetwork().start());
    expect(error.message).toMatch(
      /^Failed to start the beia mock container: its image registry\.invalid\/acme\/beia-kit-mock:0\.1\.0 is not on this Docker engine and could not be pulled \(.+\)\. /,
    );
    expect(error.message).toContain('docker pull registry.invalid/acme/beia-kit-mock:0.1.0');
    expect(error.message).toContain('build beia-kit/mock in beia-kit with "npm run docker:build" and start new BeiaMockContainer() without an image name.');
  });

  it('a Ryuk image that cannot be pulled: the error names Ryuk, not the mock, and TESTCONTAINERS_RYUK_DISABLED=true', async () => {
    // A process of its own: testcontainers keeps its first reaper (here: none) for the whole process.
    const ryuk = 'testcontainers/ryuk:0.0.0-beia-kit-not-there';
    const env: NodeJS.ProcessEnv = { ...process.env, RYUK_CONTAINER_IMAGE: ryuk };
    delete env.TESTCONTAINERS_RYUK_DISABLED;
    const script = `
      import { BeiaMockContainer } from 'beia-kit/testcontainers';
      try {
        const mock = await new BeiaMockContainer().withLabels({ 'beia-kit.test': 'true' }).withHostNetwork().start();
        await mock.stop();
        console.log('started');
      } catch (error) {
        console.log(error.message);
      }`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO, env, timeout: 60_000 });
    expect(stdout).toContain(
      `Failed to start the beia mock container: testcontainers could not pull the image of its Ryuk container, ${ryuk}, which is not on this Docker engine (`,
    );
    expect(stdout).toContain(`The mock's image ${IMAGE} is on this engine. Where no registry is reachable, set TESTCONTAINERS_RYUK_DISABLED=true`);
  });

  it("knows testcontainers' own Ryuk image", async () => {
    const reaper = await readFile(join(REPO, 'node_modules/testcontainers/build/reaper/reaper.js'), 'utf8');
    expect(ryukImage({})).toBe(/ImageName\.fromString\("(testcontainers\/ryuk:[^"]+)"\)/.exec(reaper)?.[1]);
    expect(ryukImage({ RYUK_CONTAINER_IMAGE: 'mirror.example/ryuk:1' })).toBe('mirror.example/ryuk:1');
  });

  it('on an engine without a bridge network, maps the port on a network of its own, removed at stop', async () => {
    const networks = async () => (await dockerCli(['network', 'ls', '-q'])).stdout.trim().split('\n').sort();
    const before = await networks();
    const mock = await labelled(new BeiaMockContainer()).start();
    expect(mock.getEndpoint()).not.toContain(':8080/');
    expect((await mock.client().process(input)).creditsRemaining).toBe(99);
    expect((await networks()).length).toBe(before.length + (docker.hasBridge ? 0 : 1));
    await mock.stop();
    expect(await networks()).toEqual(before);
  });

  it('passes the conformance suite, admin cases included (beia conformance --target URL --admin)', async () => {
    const mock = await hostNetwork(new BeiaMockContainer());
    const run = await runCli([
      'conformance',
      '--target',
      mock.getEndpoint(),
      '--license-id',
      '1234',
      '--api-key',
      '5678',
      '--admin',
      // One argument: a random token may start with "-", which parseArgs would take for an option.
      `--admin-token=${mock.getAdminToken()}`,
      '--unlisted-source-address',
      '127.0.0.2',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\d+ passed, 0 failed, 0 errored, 0 skipped, \d+ observed/);
  });
});
