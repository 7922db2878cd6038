import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = fileURLToPath(new URL('../../dist/cli/index.js', import.meta.url));

export interface CliMock {
  endpoint: string;
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const started: ChildProcess[] = [];
afterAll(() => {
  for (const child of started.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

/** Starts the built `beia` CLI and leaves it running; it is killed after the file's tests. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  return child;
}

/** Runs the built `beia` CLI to completion. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts `beia mock` as a user would, on a free port, and waits for its banner. */
export function startCliMock(args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<CliMock> {
  const child = spawn(process.execPath, [CLI, 'mock', '--port', '0', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`beia mock did not start within 10 s; stderr: ${stderr}`)), 10_000);
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      const endpoint = /endpoint\s+(\S+)/.exec(stderr)?.[1];
      if (endpoint) {
        clearTimeout(timer);
        resolve({
          endpoint,
          child,
          stdout: () => stdout,
          stderr: () => stderr,
          stop: (signal = 'SIGTERM') => {
            child.kill(signal);
            return exited;
          },
        });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`beia mock exited with ${code} before starting; stderr: ${stderr}`));
    });
  });
}

/**
 * True while a thread of the process is blocked opening a FIFO (kernel wait channel
 * `wait_for_partner`): the mock has got as far as reading a config that is a FIFO nobody writes.
 * (Signal masks tell nothing here: Node catches SIGTERM from its first instruction.)
 */
export async function waitsOnFifo(pid: number): Promise<boolean> {
  const { readdir, readFile } = await import('node:fs/promises');
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => []);
  const channels = await Promise.all(tasks.map((task) => readFile(`/proc/${pid}/task/${task}/wchan`, 'utf8').catch(() => '')));
  return channels.includes('wait_for_partner');
}
