import { randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
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
  /** The holder's pid namespace (`/proc/self/ns/pid`): its pid means something here only in the same one. */
  pidns?: string;
}

/** The files this process holds, so that it never opens one twice. */
const heldHere = new Set<string>();

/**
 * One process per file store, wherever it runs: the lock file names its holder (pid, host, pid
 * namespace, a random token) and the holder touches it every {@link LOCK_HEARTBEAT_MS}. Who holds
 * it is decided by that heartbeat, not by a pid that may mean another process here (a container on
 * the same volume, with `--network host`, shares the host name but not the pids): a lock touched
 * while we watch is held, and one not touched for {@link LOCK_STALE_MS} is left by a process that
 * died and is taken over. Only a holder in our own pid namespace on this host is judged by its pid:
 * alive (and not a zombie) it holds the lock, gone it crashed, and its lock is taken at once.
 * Taking it is atomic (a hard link, which fails if the lock exists), so two starters never both win.
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
    const mine: LockContent = { pid: process.pid, host: hostname(), token, ...(PID_NAMESPACE ? { pidns: PID_NAMESPACE } : {}) };
    const draft = `${lockPath}.${token}`;
    await writeFile(draft, `${JSON.stringify(mine)}\n`, { mode: 0o600 });
    try {
      const deadline = Date.now() + LOCK_STALE_MS + LOCK_HEARTBEAT_MS;
      /** The lock's mtime when we first saw it: a later one is its holder's heartbeat. */
      let firstSeen: number | undefined;
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
        const verdict = judge(found, firstSeen);
        firstSeen ??= found.mtimeMs;
        if (verdict === 'abandoned') {
          // Move it aside under a name of our own: of two starters, one rename wins.
          await rename(lockPath, `${lockPath}.stale.${token}`).then(
            () => rm(`${lockPath}.stale.${token}`, { force: true }),
            () => {},
          );
          continue;
        }
        if (verdict === 'held' || Date.now() > deadline) throw held(storePath, lockPath, describe(found.content));
        // Undecided: watch it for a heartbeat (held) or until it goes stale (abandoned).
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

type Found = { content: LockContent | undefined; ageMs: number; mtimeMs: number };

/** This process's pid namespace, e.g. `pid:[4026531836]`; undefined where /proc does not say. */
const PID_NAMESPACE = (() => {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
})();

/**
 * What a lock we could not take says about its holder: `held` (a heartbeat since we first saw it,
 * or a live process of our own namespace), `abandoned` (stale, or a process of our own namespace
 * that is gone), or `undecided` (fresh, its holder's pid means nothing here: watch it).
 */
function judge(found: Found, firstSeen: number | undefined): 'held' | 'abandoned' | 'undecided' {
  if (found.ageMs >= LOCK_STALE_MS) return 'abandoned';
  if (firstSeen !== undefined && found.mtimeMs > firstSeen) return 'held';
  const holder = found.content;
  const ourNamespace = holder !== undefined && holder.host === hostname() && PID_NAMESPACE !== undefined && holder.pidns === PID_NAMESPACE;
  if (!ourNamespace) return 'undecided';
  // Our own pid on it is a previous process that had it (heldHere rules out this one).
  if (holder.pid === process.pid || !isAlive(holder.pid)) return 'abandoned';
  return 'held';
}

async function inspect(lockPath: string): Promise<Found | undefined> {
  try {
    const [info, text] = await Promise.all([stat(lockPath), readFile(lockPath, 'utf8')]);
    let content: LockContent | undefined;
    try {
      content = JSON.parse(text) as LockContent;
    } catch {
      content = undefined; // being written, or not ours: its age decides
    }
    return { content, ageMs: Date.now() - info.mtimeMs, mtimeMs: info.mtimeMs };
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

/** True for a running process; false for none, and for a zombie (killed, not yet reaped by its parent). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // The state follows the command's closing parenthesis: "Z" is a zombie.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: kill(0) said it is there
  }
}
