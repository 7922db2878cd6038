import { randomBytes } from 'node:crypto';
import { link, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { StoreError } from './store-error.js';

/** How often the holder touches its lock, and after how long without a touch a lock is stale. */
export const LOCK_HEARTBEAT_MS = 2_000;
export const LOCK_STALE_MS = 3 * LOCK_HEARTBEAT_MS;

interface LockContent {
  pid: number;
  host: string;
  token: string;
}

/** The files this process holds, so that it never opens one twice. */
const heldHere = new Set<string>();

/**
 * One process per file store, wherever it runs: the lock file names its holder (pid, host, a
 * random token) and the holder touches it every {@link LOCK_HEARTBEAT_MS}. A lock touched
 * recently is held, whatever its pid looks like from here (a container on the same volume has
 * its own pids); one not touched for {@link LOCK_STALE_MS} is left by a process that died, and is
 * taken over. Taking it is atomic (a hard link, which fails if the lock exists), so two starters
 * never both win.
 */
export class FileLock {
  readonly path: string;
  readonly #token: string;
  readonly #heartbeat: NodeJS.Timeout;
  #released = false;

  private constructor(path: string, token: string) {
    this.path = path;
    this.#token = token;
    this.#heartbeat = setInterval(() => {
      const now = new Date();
      utimes(path, now, now).catch(() => {});
    }, LOCK_HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  /** Takes the lock of `storePath` (its `.lock`), waiting out a lock that looks abandoned, or refuses with a {@link StoreError}. */
  static async take(storePath: string): Promise<FileLock> {
    const lockPath = `${storePath}.lock`;
    if (heldHere.has(lockPath)) throw held(storePath, lockPath, 'this process');
    const token = randomBytes(12).toString('hex');
    const mine: LockContent = { pid: process.pid, host: hostname(), token };
    const draft = `${lockPath}.${token}`;
    await writeFile(draft, `${JSON.stringify(mine)}\n`, { mode: 0o600 });
    try {
      const deadline = Date.now() + LOCK_STALE_MS + LOCK_HEARTBEAT_MS;
      for (;;) {
        try {
          await link(draft, lockPath);
          heldHere.add(lockPath);
          return new FileLock(lockPath, token);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
            throw new StoreError(`Failed to lock the file store ${storePath} (${lockPath}): ${(error as Error).message}.`, { cause: error });
          }
        }
        const found = await inspect(lockPath);
        if (found === undefined) continue; // gone meanwhile: try again
        if (found.ageMs >= LOCK_STALE_MS) {
          // Abandoned. Move it aside under a name of our own: of two starters, one rename wins.
          await rename(lockPath, `${lockPath}.stale.${token}`).then(
            () => rm(`${lockPath}.stale.${token}`, { force: true }),
            () => {},
          );
          continue;
        }
        // Touched recently. On this host with its process gone it is probably a crash (a
        // SIGKILL): wait for it to go stale. Otherwise another mock holds it.
        // (Our own pid on it is a previous process that had it: a container's mock is often the same pid.)
        const crashedHere = found.content?.host === hostname() && (found.content.pid === process.pid || !isAlive(found.content.pid));
        if (!crashedHere || Date.now() > deadline) throw held(storePath, lockPath, describe(found.content));
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      await rm(draft, { force: true });
    }
  }

  /** Lets the file go: the lock is removed if it is still ours. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    clearInterval(this.#heartbeat);
    heldHere.delete(this.path);
    const found = await inspect(this.path);
    if (found?.content?.token === this.#token) await rm(this.path, { force: true });
  }
}

async function inspect(lockPath: string): Promise<{ content: LockContent | undefined; ageMs: number } | undefined> {
  try {
    const [info, text] = await Promise.all([stat(lockPath), readFile(lockPath, 'utf8')]);
    let content: LockContent | undefined;
    try {
      content = JSON.parse(text) as LockContent;
    } catch {
      content = undefined; // being written, or not ours: its age decides
    }
    return { content, ageMs: Date.now() - info.mtimeMs };
  } catch {
    return undefined;
  }
}

function describe(content: LockContent | undefined): string {
  return content ? `pid ${content.pid} on ${content.host}` : 'a process that left no name';
}

function held(storePath: string, lockPath: string, holder: string): StoreError {
  return new StoreError(
    `The file store ${storePath} is in use by another beia mock (${holder}; lock ${lockPath}). One process per file: give each mock its own file, or share state between replicas with a Redis store. A lock its holder stops touching is taken over after ${LOCK_STALE_MS / 1000} s.`,
  );
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
