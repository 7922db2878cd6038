import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes a file so that it is either absent or complete: a temporary file in the same folder, then
 * a rename, which is atomic on one filesystem. An interrupted run leaves no half file; `mode` sets
 * the permissions the file is made with (a key readable by its owner only: 0o600).
 *
 * @example
 * ```ts
 * await writeFileAtomic('results/photo.png', png);
 * await writeFileAtomic('tls/ca-key.pem', key, { mode: 0o600 });
 * ```
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: { mode?: number } = {}): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temporary, data, options.mode === undefined ? {} : { mode: options.mode });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
