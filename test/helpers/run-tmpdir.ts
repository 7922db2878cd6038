import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * vitest's global setup: one temporary folder for the whole run, given to the test processes and
 * everything they start (CLI runs, redis-server, Chromium) as TMPDIR, and removed at the end, so
 * that a run leaves nothing behind in /tmp however many folders its tests make.
 */
export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'beia-kit-run-'));
  process.env.TMPDIR = dir;
  return () => {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch (error) {
      process.stderr.write(`beia-kit tests: could not remove ${dir}: ${(error as Error).message}\n`);
    }
  };
}
