import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeNeeding } from './needs.js';

/** Why Redis tests cannot run here, or undefined when `redis-server` is installed. */
export const redisMissing: string | undefined =
  spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0 ? undefined : 'redis-server is not installed (apt-get install redis-server)';

/** `describe` for tests that need a real Redis (see {@link describeNeeding}). */
export function describeWithRedis(title: string, body: () => void): void {
  describeNeeding('the Redis tests', redisMissing, title, body, 60_000);
}

export interface TestRedis {
  port: number;
  url: string;
  /** Stops it (SIGTERM; with `persist`, after writing its append-only file). */
  stop(): Promise<void>;
  /** Starts it again on the same port and directory. */
  start(): Promise<void>;
  /** Sends it a signal (SIGKILL: no time to save anything) and waits until it has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Runs redis-cli with these arguments against it (e.g. `FLUSHALL`); its output. */
  cli(...args: string[]): string;
  /** Stops it for good and removes its directory. */
  dispose(): Promise<void>;
}

/**
 * A redis-server of the test's own on a free loopback port, in a directory of its own. With
 * `persist`, an append-only file synced at every write, so a stop and start keeps the data.
 */
export async function startRedis(options: { persist?: boolean } = {}): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'beia-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    ...(options.persist ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
  ];
  const start = () =>
    new Promise<void>((resolve, reject) => {
      const started = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      child = started;
      let out = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start on ${port}: ${out}`)), 10_000);
      started.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          started.stdout.removeAllListeners('data');
          started.stdout.resume();
          resolve();
        }
      });
      started.on('exit', (code) => {
        clearTimeout(timer);
        if (!out.includes('Ready to accept connections')) reject(new Error(`redis-server exited with ${code}: ${out}`));
      });
    });
  const kill = async (signal: NodeJS.Signals) => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill(signal);
    await exited;
  };
  const stop = () => kill('SIGTERM');
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop,
    start,
    kill,
    cli: (...cliArgs) => {
      const result = spawnSync('redis-cli', ['-p', String(port), ...cliArgs], { encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`redis-cli ${cliArgs.join(' ')} failed: ${result.stderr}`);
      return result.stdout.trim();
    },
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A TCP proxy in front of a Redis on loopback that can lose one answer: after `loseNextAnswer()`,
 * the next bytes Redis sends are dropped and the client's connection is cut, as when a network
 * fails after Redis ran a command and before its answer arrived.
 */
export async function lossyProxy(redisPort: number): Promise<{ url: string; loseNextAnswer(): void; close(): Promise<void> }> {
  let lose = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(redisPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      if (!lose) {
        client.write(chunk);
        return;
      }
      lose = false;
      client.destroy();
      upstream.destroy();
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${port}`,
    loseNextAnswer: () => {
      lose = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}
