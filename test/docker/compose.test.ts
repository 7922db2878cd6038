import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { REPO } from '../helpers/cli.js';
import { MockAdminClient } from '../../src/mock/index.js';
import { compose, describeWithDocker, dockerCli, freePort, inspect, logsOf } from '../helpers/docker.js';
import { jpeg } from '../helpers/images.js';
import { eventually, sendImage } from '../helpers/server.js';

const FILE = join(REPO, 'docker', 'compose.yaml');
const project = `beia-kit-compose-test-${randomBytes(3).toString('hex')}`;

function composeCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const [command, ...prefix] = compose!;
  return new Promise((resolve) => {
    execFile(command!, [...prefix, '-p', project, '-f', FILE, ...args], { env: { ...process.env, ...env }, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

afterAll(async () => {
  if (compose) await composeCli(['down', '--volumes', '--timeout', '5']);
});

describeWithDocker(
  'docker/compose.yaml',
  () => {
    it('starts the mock with its mounted config, turns healthy, and serves both licenses on a port of this machine only', async () => {
      const port = await freePort();
      const up = await composeCli(['up', '-d'], { BEIA_MOCK_HOST_PORT: String(port), BEIA_MOCK_ADMIN_TOKEN: '' });
      expect(up.code, up.stderr).toBe(0);
      const id = (await composeCli(['ps', '-q', 'beia-mock'])).stdout.trim();
      await eventually(async () => (await inspect(id, '{{.State.Health.Status}}')) === 'healthy', 30_000);
      expect((await dockerCli(['port', id, '8080/tcp'])).stdout.trim()).toBe(`127.0.0.1:${port}`);

      const endpoint = `http://127.0.0.1:${port}/beia-api/v1/image`;
      const image = await jpeg();
      const paid = await sendImage(endpoint, image);
      expect([paid.status, paid.headers['credits-remaining']]).toEqual([200, '99']);
      const broke = await sendImage(endpoint, image, { licenseId: 'broke', apiKey: 'no-money' });
      expect(broke.status).toBe(402);
      // No token in the environment: the mock made one and printed it in the logs.
      const token = /Authorization: Bearer (\S+)/.exec(await logsOf(id))?.[1];
      expect(token).toMatch(/^[\w-]{20,}$/);
      expect(await new MockAdminClient(`http://127.0.0.1:${port}`, { token }).licenses()).toHaveLength(2);
      await expect(new MockAdminClient(`http://127.0.0.1:${port}`).licenses()).rejects.toMatchObject({ status: 401 });

      const down = await composeCli(['down', '--timeout', '5']);
      expect(down.code, down.stderr).toBe(0);
    });

    it('passes the token from the environment to the mock', async () => {
      const port = await freePort();
      expect((await composeCli(['up', '-d'], { BEIA_MOCK_HOST_PORT: String(port), BEIA_MOCK_ADMIN_TOKEN: 'team-token' })).code).toBe(0);
      const id = (await composeCli(['ps', '-q', 'beia-mock'])).stdout.trim();
      await eventually(async () => (await inspect(id, '{{.State.Health.Status}}')) === 'healthy', 30_000);
      expect(await logsOf(id)).toContain('token required: the one given');
      expect(await new MockAdminClient(`http://127.0.0.1:${port}`, { token: 'team-token' }).licenses()).toHaveLength(2);
      expect((await composeCli(['down', '--timeout', '5'])).code).toBe(0);
    });
  },
  { compose: true },
);
