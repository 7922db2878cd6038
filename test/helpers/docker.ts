import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll } from 'vitest';
import { describeNeeding } from './needs.js';
import { MOCK_VERSION } from '../../src/mock/index.js';
import type { BeiaMockContainer } from '../../src/testcontainers/index.js';

/** The image `npm run docker:build` makes, which these tests run. */
export const IMAGE = `beia-kit/mock:${MOCK_VERSION}`;

// testcontainers reads these when it first talks to the engine: no Ryuk (it needs an image pull),
// and the engine's host as this machine's loopback. Whatever the environment sets wins.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1';

/**
 * Every container and network these tests make carries both: testcontainers' own, which `.ci/run`
 * sweeps on the engine it started, and ours, which it sweeps on an engine that was already there.
 */
export const LABELS = { 'org.testcontainers': 'true', 'beia-kit.test': 'true' } as const;
const LABEL_FLAGS = Object.entries(LABELS).flatMap(([key, value]) => ['--label', `${key}=${value}`]);

/** Labels the container for the clean-up, and returns it. */
export function labelled(container: BeiaMockContainer): BeiaMockContainer {
  return container.withLabels({ ...LABELS });
}

/** A port free on this machine now, for a container on the host's network or a fixed mapping. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '0.0.0.0', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface DockerProbe {
  ok: boolean;
  /** Why the container tests cannot run, when they cannot. */
  reason?: string;
  /** The engine has the default bridge network; without it, mapped ports need a network of our own. */
  hasBridge?: boolean;
}

function probe(): DockerProbe {
  const run = (args: string[]) => execFileSync('docker', args, { stdio: 'pipe', timeout: 15_000 });
  try {
    run(['info', '--format', '{{.ServerVersion}}']);
  } catch {
    return { ok: false, reason: 'no Docker engine answers (docker info failed): start one, or set DOCKER_HOST' };
  }
  try {
    run(['image', 'inspect', IMAGE]);
  } catch {
    return { ok: false, reason: `the image ${IMAGE} is not built: run npm run docker:build` };
  }
  let hasBridge = true;
  try {
    run(['network', 'inspect', 'bridge']);
  } catch {
    hasBridge = false;
  }
  return { ok: true, hasBridge };
}

export const docker: DockerProbe = probe();

/** How to run Compose here: `docker compose` (v2) or `docker-compose` (v1), or undefined. */
export const compose: string[] | undefined = (() => {
  if (!docker.ok) return undefined;
  for (const command of [['docker', 'compose'], ['docker-compose']]) {
    try {
      execFileSync(command[0]!, [...command.slice(1), 'version'], { stdio: 'pipe', timeout: 15_000 });
      return command;
    } catch {
      // try the next one
    }
  }
  return undefined;
})();

/**
 * A describe block for tests that need a Docker engine and the image. Without them it is skipped
 * with one line saying why, or, in CI (`CI=true`), replaced by one failing test that says why.
 */
export function describeWithDocker(title: string, body: () => void, options: { compose?: boolean } = {}): void {
  const reason = !docker.ok
    ? docker.reason
    : options.compose && !compose
      ? 'neither "docker compose" nor "docker-compose" runs here: install one (apt-get install docker-compose)'
      : undefined;
  // Containers start in seconds, but the wait strategies allow a minute: let them say why first.
  describeNeeding('the container tests', reason, title, body, 120_000);
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `docker ARGS`, to completion; never throws for a non-zero exit. */
export function dockerCli(args: string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile('docker', args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

const containers: string[] = [];
const networks: string[] = [];
const volumes: string[] = [];

afterAll(async () => {
  if (containers.length > 0) await dockerCli(['rm', '-f', ...containers.splice(0)]);
  for (const network of networks.splice(0)) await dockerCli(['network', 'rm', network]);
  for (const volume of volumes.splice(0)) await dockerCli(['volume', 'rm', '-f', volume]);
});

/** A named volume with the tests' labels, removed after the file's tests. */
export async function labelledVolume(): Promise<string> {
  const name = `beia-kit-test-${randomBytes(4).toString('hex')}`;
  const made = await dockerCli(['volume', 'create', ...LABEL_FLAGS, name]);
  if (made.code !== 0) throw new Error(`docker volume create failed: ${made.stderr.trim()}`);
  volumes.push(name);
  return name;
}

/**
 * `docker run -d` of the image with these flags before the image name, labelled for clean-up and
 * removed after the file's tests. Resolves with the container id, or rejects with docker's message.
 */
export async function runContainer(flags: string[], args: string[] = []): Promise<string> {
  const run = await dockerCli(['run', '-d', ...LABEL_FLAGS, ...flags, IMAGE, ...args]);
  if (run.code !== 0) throw new Error(`docker run failed (${run.code}): ${run.stderr.trim()}`);
  const id = run.stdout.trim();
  containers.push(id);
  return id;
}

/**
 * A network where port mapping works on this engine: the default bridge when there is one, else a
 * bridge network of our own (an engine started with --bridge=none still makes those).
 */
export async function mappableNetwork(): Promise<string[]> {
  if (docker.hasBridge) return [];
  const name = `beia-kit-test-${randomBytes(4).toString('hex')}`;
  const made = await dockerCli(['network', 'create', ...LABEL_FLAGS, name]);
  if (made.code !== 0) throw new Error(`docker network create failed: ${made.stderr.trim()}`);
  networks.push(name);
  return ['--network', name];
}

/** `docker logs`, both streams together. */
export async function logsOf(id: string): Promise<string> {
  const run = await dockerCli(['logs', id]);
  return run.stdout + run.stderr;
}

/** Polls the logs until `pattern` shows up, for at most `ms`; the logs so far in the error. */
export async function waitForLog(id: string, pattern: RegExp, ms = 20_000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const logs = await logsOf(id);
    if (pattern.test(logs)) return logs;
    if (Date.now() > deadline) throw new Error(`container ${id.slice(0, 12)} did not log ${pattern} within ${ms} ms; logs:\n${logs}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits for the container to exit (at most `ms`) and gives its exit code. */
export async function exitCodeOf(id: string, ms = 20_000): Promise<number> {
  const run = await dockerCli(['wait', id], ms);
  if (run.code !== 0) throw new Error(`docker wait ${id.slice(0, 12)} failed or timed out: ${run.stderr.trim()}`);
  return Number(run.stdout.trim());
}

/** `docker inspect --format`. */
export async function inspect(id: string, format: string): Promise<string> {
  const run = await dockerCli(['inspect', '--format', format, id]);
  if (run.code !== 0) throw new Error(`docker inspect failed: ${run.stderr.trim()}`);
  return run.stdout.trim();
}

/** True while a process in the container is blocked opening a FIFO (see `waitsOnFifo`). */
export async function containerWaitsOnFifo(id: string): Promise<boolean> {
  const run = await dockerCli(['exec', id, 'sh', '-c', 'cat /proc/[0-9]*/task/*/wchan; echo']);
  return run.stdout.includes('wait_for_partner');
}
