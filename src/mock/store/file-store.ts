import { constants } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { FileLock } from './file-lock.js';
import type { LicenseConfig } from '../config/index.js';
import { ipEntryProblem } from '../net/ip.js';
import type { JournalBounds } from './journal-bounds.js';
import { isJournalEntry, journalEntryProblem } from './journal-entry-check.js';
import { MemoryStore, type StoreSnapshot } from './memory-store.js';
import { StoreError } from './store-error.js';
import type {
  Admission,
  ArmedFault,
  FaultSpec,
  FiredFault,
  JournalEntry,
  LicenseState,
  MockStore,
  NewLicense,
  RetryWatch,
  Settlement,
  StoreCounters,
  Ticket,
} from './types.js';

const FORMAT = 'beia-kit mock store';
const JOURNAL_FORMAT = 'beia-kit mock journal';

/** The journal lives next to the state: `state.json` and `state.json.journal`. */
function journalPathOf(path: string): string {
  return `${path}.journal`;
}
const VERSION = 1;
/** After a write that failed (a full disk), the next try of it. */
const RETRY_MS = 1_000;

export interface FileStoreOptions extends JournalBounds {
  /** The licenses of an empty store (a file that does not exist yet), or of every start with `reset`. */
  seed: readonly LicenseConfig[];
  /** Start from `seed` even when the file holds state (`--reset-store`). */
  reset?: boolean;
}

/**
 * The state in a JSON file, so that credits, licenses, the journal and armed faults outlive a
 * restart. Each change is in memory first (a {@link MemoryStore} does the logic, so both stores
 * behave the same), then on disk by write-then-rename: a credit spent, a license changed or a
 * fault armed is on disk before the call returns, so the 200 or the admin answer that follows
 * is never ahead of the file. Writes that wait at the same time share one (group commit).
 * Journal entries go to a file of their own (`PATH.journal`) at most 200 ms later, bounded as the
 * journal in memory is (`maxJournalEntries`, `maxJournalBytes`). One process
 * per file: a lock file next to it refuses a second one.
 *
 * @example
 * ```ts
 * const store = await FileStore.open('/var/lib/beia/state.json', { seed: config.licenses, maxJournalEntries: 1000, maxJournalBytes: 8 * 1024 * 1024 });
 * // ... serve ...
 * await store.close();
 * ```
 */
export class FileStore implements MockStore {
  readonly kind = 'file';
  readonly path: string;
  /** Whether the state came from the file (false: seeded from the config). */
  readonly loaded: boolean;
  readonly #memory: MemoryStore;
  readonly #lock: FileLock;
  readonly #journalPath: string;
  #journalTimer: NodeJS.Timeout | undefined;
  #journalWriting: Promise<void> = Promise.resolve();
  #version = 0;
  #savedVersion = 0;
  #writing: Promise<void> | undefined;
  #lazy: NodeJS.Timeout | undefined;
  #closed = false;
  /** Why the last write of the state, or of the journal, failed; undefined once one succeeds. */
  #stateWriteError: string | undefined;
  #journalWriteError: string | undefined;
  /** The journal's `nextSeq` in the last journal file written: the entries after it are only in memory. */
  #journalWrittenSeq = 1;

  private constructor(path: string, memory: MemoryStore, loaded: boolean, lock: FileLock) {
    this.path = path;
    this.#memory = memory;
    this.loaded = loaded;
    this.#lock = lock;
    this.#journalPath = journalPathOf(path);
  }

  /** Takes the lock, then loads the file, or seeds it when it does not exist (or `reset`). */
  static async open(path: string, options: FileStoreOptions): Promise<FileStore> {
    path = resolve(path);
    const lock = await FileLock.take(path);
    try {
      await removeLeftovers(path);
      const state = options.reset ? undefined : await readSnapshot(path);
      const snapshot = state && { ...state, ...((await readJournal(journalPathOf(path))) ?? { journal: [], nextSeq: state.nextSeq ?? 1 }) };
      const memory = new MemoryStore(options.seed, {
        maxJournalEntries: options.maxJournalEntries,
        maxJournalBytes: options.maxJournalBytes,
        ...(snapshot ? { restore: snapshot } : {}),
      });
      const store = new FileStore(path, memory, snapshot !== undefined, lock);
      store.#journalWrittenSeq = memory.nextSeq;
      if (!snapshot) {
        await store.#persist();
        await store.#writeJournal();
      }
      return store;
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  getLicense(licenseId: string): Promise<LicenseState | undefined> {
    return this.#watchExpiry(this.#memory.getLicense(licenseId));
  }

  listLicenses(): Promise<LicenseState[]> {
    return this.#watchExpiry(this.#memory.listLicenses());
  }

  async updateLicense(licenseId: string, patch: Partial<Omit<LicenseConfig, 'licenseId'>>): Promise<LicenseState | undefined> {
    const updated = await this.#memory.updateLicense(licenseId, patch);
    if (updated) await this.#persist();
    return updated;
  }

  async putLicense(license: NewLicense): Promise<LicenseState> {
    const put = await this.#memory.putLicense(license);
    await this.#persist();
    return put;
  }

  async deleteLicense(licenseId: string): Promise<boolean> {
    const deleted = await this.#memory.deleteLicense(licenseId);
    if (deleted) {
      await this.#persist();
      this.#journalSoon();
    }
    return deleted;
  }

  async deleteExpired(): Promise<string[]> {
    const expired = await this.#memory.deleteExpired();
    if (expired.length > 0) {
      await this.#persist();
      this.#journalSoon();
    }
    return expired;
  }

  async reset(licenses: readonly LicenseConfig[]): Promise<void> {
    await this.#memory.reset(licenses);
    await this.#persist();
    await this.#writeJournal();
  }

  admit(licenseId: string, globalMaxConcurrent: number): Promise<Admission> {
    // Slots and reserved credits live only as long as the process: nothing to write.
    return this.#watchExpiry(this.#memory.admit(licenseId, globalMaxConcurrent));
  }

  async settle(ticket: Ticket, spend: boolean): Promise<Settlement> {
    const settlement = await this.#memory.settle(ticket, spend);
    if (settlement.spent) {
      try {
        await this.#persist();
      } catch (error) {
        // Not on disk, so not spent: give the credit back (one, whatever else changed meanwhile),
        // and the caller answers an error.
        this.#memory.refund(ticket);
        throw new StoreError(`${(error as Error).message} Nothing was spent.`, { cause: error });
      }
    }
    return settlement;
  }

  inFlight(): Promise<number> {
    return this.#memory.inFlight();
  }

  async appendJournal(entry: Omit<JournalEntry, 'seq'>, retry?: RetryWatch): Promise<{ earlyByMs?: number }> {
    const result = await this.#memory.appendJournal(entry, retry);
    this.#journalSoon();
    return result;
  }

  listJournal(filter?: { licenseId?: string; limit?: number }): Promise<JournalEntry[]> {
    return this.#watchExpiry(this.#memory.listJournal(filter));
  }

  async clearJournal(): Promise<void> {
    await this.#memory.clearJournal();
    await this.#writeJournal();
  }

  async armFault(spec: FaultSpec): Promise<ArmedFault> {
    const fault = await this.#memory.armFault(spec);
    await this.#persist();
    return fault;
  }

  listFaults(): Promise<ArmedFault[]> {
    return this.#watchExpiry(this.#memory.listFaults());
  }

  async removeFault(id: string): Promise<boolean> {
    const removed = await this.#memory.removeFault(id);
    if (removed) await this.#persist();
    return removed;
  }

  async clearFaults(): Promise<void> {
    await this.#memory.clearFaults();
    await this.#persist();
  }

  async takeFault(licenseId: string | undefined): Promise<FiredFault | undefined> {
    const fault = await this.#memory.takeFault(licenseId);
    // A counted fault that fired must not fire again after a restart, and a seeded one goes on
    // from where its sequence was.
    if (fault || this.#memory.drawsFaults) await this.#persist();
    return fault;
  }

  /** `degraded` while the last write of the state or of the journal failed (a full disk): until one succeeds. */
  health(): 'ok' | 'degraded' {
    return this.#stateWriteError === undefined && this.#journalWriteError === undefined ? 'ok' : 'degraded';
  }

  healthReason(): string | undefined {
    const reasons = [this.#stateWriteError, this.#journalWriteError].filter((reason) => reason !== undefined);
    return reasons.length === 0 ? undefined : reasons.join(' ');
  }

  /**
   * The journal entries not on disk yet: they wait in memory, bounded as the journal is, and are
   * written with the next journal write that succeeds; none is given up on the way.
   */
  counters(): StoreCounters {
    return { journalPending: Math.max(0, this.#memory.nextSeq - this.#journalWrittenSeq), journalDropped: 0, stateLost: 0 };
  }

  /** Writes what is not written yet and gives the file up for another process. */
  async close(): Promise<void> {
    if (this.#closed) return;
    clearTimeout(this.#lazy);
    clearTimeout(this.#journalTimer);
    try {
      await this.#persist();
      await this.#writeJournal();
    } finally {
      this.#closed = true;
      // A write that failed just now scheduled a retry: there is none after close.
      clearTimeout(this.#lazy);
      clearTimeout(this.#journalTimer);
      await this.#lock.release();
    }
  }

  /** A read may find an expired license and drop it: that change is written soon, not awaited. */
  async #watchExpiry<T>(read: Promise<T>): Promise<T> {
    const before = this.#memory.deletions;
    const value = await read;
    if (this.#memory.deletions !== before) {
      this.#persistSoon();
      this.#journalSoon();
    }
    return value;
  }

  /**
   * The journal goes to its own file, at most 200 ms after an entry: it is not worth a write per
   * request. A write that fails is tried again every second; the entries wait in memory meanwhile.
   */
  #journalSoon(delayMs = 200): void {
    if (this.#closed || this.#journalTimer) return;
    this.#journalTimer = setTimeout(() => {
      this.#journalTimer = undefined;
      this.#writeJournal().catch((error: unknown) => {
        console.error(`beia mock: ${(error as Error).message}`);
        this.#journalSoon(RETRY_MS);
      });
    }, delayMs);
    this.#journalTimer.unref();
  }

  /** Writes the journal now, after any write of it already under way. */
  #writeJournal(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#journalWriting = this.#journalWriting
      .catch(() => {})
      .then(async () => {
        const { journal, nextSeq } = this.#memory.snapshot();
        try {
          await writeAtomically(this.#journalPath, `${JSON.stringify({ format: JOURNAL_FORMAT, version: VERSION, nextSeq, journal })}\n`);
        } catch (error) {
          this.#journalWriteError = `The journal could not be written (${(error as Error).message}); its newest entries wait in memory.`;
          throw error;
        }
        this.#journalWriteError = undefined;
        this.#journalWrittenSeq = nextSeq;
      });
    return this.#journalWriting;
  }

  /** A write of the state soon: at once after a change read from memory, every second after a write that failed. */
  #persistSoon(delayMs = 200): void {
    if (this.#closed) return;
    this.#version += 1;
    this.#lazy ??= setTimeout(() => {
      this.#lazy = undefined;
      this.#persist().catch((error: unknown) => console.error(`beia mock: ${(error as Error).message}`));
    }, delayMs);
    this.#lazy.unref();
  }

  /** Resolves once a write that holds every change made before this call is on disk. */
  async #persist(): Promise<void> {
    if (this.#closed) throw new StoreError(`The file store ${this.path} is closed.`);
    const wanted = ++this.#version;
    while (this.#savedVersion < wanted) {
      if (!this.#writing) {
        const version = this.#version;
        const { journal: _journal, nextSeq: _nextSeq, ...state } = this.#memory.snapshot();
        const text = `${JSON.stringify({ format: FORMAT, version: VERSION, savedAt: new Date().toISOString(), ...state })}\n`;
        this.#writing = writeAtomically(this.path, text)
          .then(
            () => {
              this.#savedVersion = Math.max(this.#savedVersion, version);
              this.#stateWriteError = undefined;
            },
            (error: unknown) => {
              // Until a write succeeds, health is degraded and the state is written again every second.
              this.#stateWriteError = (error as Error).message;
              this.#persistSoon(RETRY_MS);
              throw error;
            },
          )
          .finally(() => {
            this.#writing = undefined;
          });
      }
      await this.#writing;
    }
  }
}

/** Temporary files of writes cut short (a SIGKILL mid-write); they may hold API keys. */
async function removeLeftovers(path: string): Promise<void> {
  const name = basename(path);
  const pattern = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(?:journal\\.)?[0-9a-f]{12}\\.tmp$`);
  for (const entry of await readdir(dirname(path)).catch(() => [])) {
    if (pattern.test(entry)) await rm(join(dirname(path), entry), { force: true });
  }
}

/** Write to a new file, flush it, then rename it over the old one: a reader sees the old or the new, never half. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const file = await open(temporary, 'w', 0o600);
    try {
      await file.writeFile(text);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
    const directory = await open(dirname(path), constants.O_RDONLY);
    await directory.sync().finally(() => directory.close());
  } catch (error) {
    await rm(temporary, { force: true });
    throw new StoreError(
      `Failed to write the file store ${path}: ${(error as Error).message}. Check the disk and the path's permissions; until a write succeeds, changes hold only in this mock's memory.`,
      { cause: error },
    );
  }
}

/** A file's JSON, or undefined when there is no file; one that is not JSON is refused with `refuse`. */
async function readJsonFile(path: string, what: string, refuse: (what: string) => StoreError): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StoreError(`Failed to read ${what} ${path}: ${(error as Error).message}.`, { cause: error });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw refuse(`is not valid JSON (${(error as Error).message})`);
  }
}

/** The file's state, or undefined when there is no file yet; a file that is not one is refused, never reset. */
async function readSnapshot(path: string): Promise<(Omit<StoreSnapshot, 'journal' | 'nextSeq'> & { nextSeq?: number }) | undefined> {
  const refuse = (what: string) =>
    new StoreError(
      `The file store ${path} ${what}. beia mock does not overwrite a file it cannot read: move it away, or start with --reset-store to replace it with the config's licenses.`,
    );
  const data = await readJsonFile(path, 'the file store', refuse);
  if (data === undefined) return undefined;
  if (typeof data !== 'object' || data === null || (data as { format?: unknown }).format !== FORMAT) {
    throw refuse(`is not a beia-kit mock store (no "format": "${FORMAT}")`);
  }
  const state = data as Record<string, unknown>;
  if (state.version !== VERSION) throw refuse(`has version ${JSON.stringify(state.version)}; this beia-kit reads version ${VERSION}`);
  const licenses = state.licenses;
  if (!Array.isArray(licenses)) throw refuse('has no "licenses" list');
  licenses.forEach((license: unknown, index) => {
    const problem = licenseProblem(license);
    if (problem) throw refuse(`has a bad license at licenses[${index}]: ${problem}`);
  });
  if (!Array.isArray(state.faults)) throw refuse('has no "faults" list');
  if (!Number.isSafeInteger(state.nextFault)) throw refuse('has no "nextFault" counter');
  return state as unknown as Omit<StoreSnapshot, 'journal' | 'nextSeq'> & { nextSeq?: number };
}

/**
 * The journal file's entries, or undefined when there is none; one that is not a journal is
 * refused. An entry that is not a journal entry (a hand edit, another program's line) or that
 * breaks the order of `seq` is left out with one warning for all of them: the journal is a record
 * of requests, not state the mock needs, so the mock starts with the entries it can trust.
 */
async function readJournal(path: string): Promise<Pick<StoreSnapshot, 'journal' | 'nextSeq'> | undefined> {
  const refuse = (what: string) => new StoreError(`The journal file ${path} ${what}. Move it away (the journal starts empty) or start with --reset-store.`);
  const data = (await readJsonFile(path, 'the journal file', refuse)) as { format?: unknown; journal?: unknown; nextSeq?: unknown } | null | undefined;
  if (data === undefined) return undefined;
  if (data === null || data.format !== JOURNAL_FORMAT || !Array.isArray(data.journal) || !Number.isSafeInteger(data.nextSeq)) {
    throw refuse('is not a beia-kit mock journal');
  }
  const nextSeq = data.nextSeq as number;
  const journal: JournalEntry[] = [];
  const left: string[] = [];
  for (const [index, entry] of (data.journal as unknown[]).entries()) {
    const lastSeq = journal.at(-1)?.seq ?? 0;
    const problem = !isJournalEntry(entry)
      ? journalEntryProblem(entry)
      : entry.seq >= nextSeq
        ? `"seq" ${entry.seq} is not below the file's "nextSeq" ${nextSeq}`
        : entry.seq <= lastSeq
          ? `"seq" ${entry.seq} does not come after ${lastSeq}`
          : undefined;
    if (problem === undefined) journal.push(entry as JournalEntry);
    else left.push(`journal[${index}]: ${problem}`);
  }
  if (left.length > 0) {
    console.error(
      `beia mock: the journal file ${path} has ${left.length} entr${left.length === 1 ? 'y' : 'ies'} that this mock cannot read (${left.slice(0, 3).join('; ')}${left.length > 3 ? '; ...' : ''}); left out, and gone from the file at its next write. To keep them, stop the mock and move the file away first.`,
    );
  }
  return { journal, nextSeq };
}

function licenseProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'not an object';
  const license = value as Record<string, unknown>;
  if (typeof license.licenseId !== 'string' || license.licenseId === '') return 'licenseId is not a non-empty string';
  if (typeof license.apiKey !== 'string') return 'apiKey is not a string';
  if (!Number.isSafeInteger(license.credits) || (license.credits as number) < 0) return 'credits is not a whole number of at least 0';
  if (!Number.isSafeInteger(license.maxConcurrent) || (license.maxConcurrent as number) < 0) return 'maxConcurrent is not a whole number of at least 0';
  if (!Array.isArray(license.allowedIps) || license.allowedIps.some((ip) => typeof ip !== 'string' || ipEntryProblem(ip) !== undefined)) {
    return 'allowedIps is not a list of IP addresses or CIDR blocks';
  }
  if (license.expiresAt !== undefined && (typeof license.expiresAt !== 'string' || Number.isNaN(Date.parse(license.expiresAt))))
    return 'expiresAt is not a time';
  return undefined;
}
