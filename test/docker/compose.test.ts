import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { REPO } from '../helpers/cli.js';
import { compose, describeWithDocker, inspect } from '../helpers/docker.js';
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

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '0.0.0.0', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

afterAll(async () => {
  if (compose) await composeCli(['down', '--volumes', '--timeout', '5']);
});

describeWithDocker(
  'docker/compose.yaml',
  () => {
    it('starts the mock with its mounted config, turns healthy, and serves both licenses on the mapped port', async () => {
      const port = await freePort();
      const up = await composeCli(['up', '-d'], { BEIA_MOCK_HOST_PORT: String(port) });
      expect(up.code, up.stderr).toBe(0);
      const id = (await composeCli(['ps', '-q', 'beia-mock'])).stdout.trim();
      await eventually(async () => (await inspect(id, '{{.State.Health.Status}}')) === 'healthy', 30_000);

      const endpoint = `http://127.0.0.1:${port}/beia-api/v1/image`;
      const image = await jpeg();
      const paid = await sendImage(endpoint, image);
      expect([paid.status, paid.headers['credits-remaining']]).toEqual([200, '99']);
      const broke = await sendImage(endpoint, image, { licenseId: 'broke', apiKey: 'no-money' });
      expect(broke.status).toBe(402);
      // The admin token of the compose file.
      const admin = await fetch(`http://127.0.0.1:${port}/__admin/licenses`, { headers: { authorization: 'Bearer change-me' } });
      expect(admin.status).toBe(200);

      const down = await composeCli(['down', '--timeout', '5']);
      expect(down.code, down.stderr).toBe(0);
    });
  },
  { compose: true },
);
