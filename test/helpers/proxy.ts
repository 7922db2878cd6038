import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeNeeding } from './needs.js';

/** Why proxy tests cannot run here, or undefined when Debian's tinyproxy is installed. */
export const tinyproxyMissing: string | undefined =
  spawnSync('tinyproxy', ['-v'], { stdio: 'ignore' }).error === undefined ? undefined : 'tinyproxy is not installed (apt-get install tinyproxy)';

/** `describe` for tests that need a real forward proxy (see {@link describeNeeding}). */
export function describeWithProxy(title: string, body: () => void): void {
  describeNeeding('the proxy tests', tinyproxyMissing, title, body, 60_000);
}

export interface TestProxy {
  /** `http://127.0.0.1:PORT`, with `user:password@` when the proxy asks for them. */
  url: string;
  /** The proxy's own log: each CONNECT it served names its target. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * A tinyproxy of the test's own on a free loopback port (foreground, its own config, log and pid),
 * taking clients from loopback only; with `credentials`, it asks for them (BasicAuth). Stopped by pid.
 */
export async function startTinyproxy(options: { credentials?: { user: string; password: string } } = {}): Promise<TestProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'beia-proxy-'));
  const port = await freePort();
  const logFile = join(dir, 'tinyproxy.log');
  const config = [
    `Port ${port}`,
    'Listen 127.0.0.1',
    'Allow 127.0.0.1',
    'Timeout 60',
    `LogFile "${logFile}"`,
    'LogLevel Connect',
    'MaxClients 20',
    // No ConnectPort line: CONNECT to any port (the mock's is a free one).
    ...(options.credentials ? [`BasicAuth ${options.credentials.user} ${options.credentials.password}`] : []),
  ];
  writeFileSync(join(dir, 'tinyproxy.conf'), `${config.join('\n')}\n`);
  const child: ChildProcess = spawn('tinyproxy', ['-d', '-c', join(dir, 'tinyproxy.conf')], { stdio: 'ignore' });
  const deadline = Date.now() + 5_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      }).on('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`tinyproxy did not start on 127.0.0.1:${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const auth = options.credentials ? `${options.credentials.user}:${options.credentials.password}@` : '';
  return {
    url: `http://${auth}127.0.0.1:${port}`,
    log: () => {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
