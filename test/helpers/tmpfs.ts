import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeNeeding } from './needs.js';

/** A small tmpfs mounted on a directory of its own: a real filesystem that fills up. */
export interface SmallDisk {
  dir: string;
  /** Unmounts it and removes the directory. */
  unmount(): void;
}

/** Mounts a tmpfs of `size` (as `mount -o size=` takes it, e.g. `1m`) on a fresh directory. */
export function mountTmpfs(size: string): SmallDisk {
  const dir = mkdtempSync(join(tmpdir(), 'beia-small-disk-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { encoding: 'utf8' });
  if (mounted.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mount -t tmpfs failed: ${mounted.stderr || mounted.error?.message}`);
  }
  return {
    dir,
    unmount() {
      const unmounted = spawnSync('umount', [dir], { encoding: 'utf8' });
      if (unmounted.status !== 0) throw new Error(`umount ${dir} failed: ${unmounted.stderr}`);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Why a tmpfs cannot be mounted here (not root, no CAP_SYS_ADMIN), or undefined when it can. */
export const tmpfsMissing: string | undefined = (() => {
  try {
    mountTmpfs('64k').unmount();
    return undefined;
  } catch (error) {
    return `${(error as Error).message.trim()} (the full-disk tests mount a 1 MiB tmpfs: run them as root, or in a container with CAP_SYS_ADMIN)`;
  }
})();

/** `describe` for tests that fill a real filesystem (see {@link describeNeeding}): skipped with one line where mount is not permitted, failed in CI. */
export function describeWithTmpfs(title: string, body: () => void): void {
  describeNeeding('the full-disk tests', tmpfsMissing, title, body, 60_000);
}
