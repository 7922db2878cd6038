import type { JournalEntry } from '../record/request-record.js';
import type { LicenseConfig } from '../config/index.js';
import type { ArmedFault, FaultSpec, FiredFault } from '../faults/model.js';

// The fault model lives in `../faults/`; named here too, as the stores and their users import it from the store.
export { ANSWER_LOSING_FAULTS, FAULT_TYPES } from '../faults/model.js';
export type { ArmedFault, FaultSpec, FaultType, FiredFault } from '../faults/model.js';

/** A license as the store holds it: its settings plus what is in flight. */
export interface LicenseState extends LicenseConfig {
  /** Images of this license in processing now. */
  inFlight: number;
  /** When a license made for one test (`POST /__admin/licenses`) goes away, as an ISO time. */
  expiresAt?: string;
}

/** A license to add: its settings, and for a license made for one test, when it goes away. */
export type NewLicense = LicenseConfig & { expiresAt?: string };

/** What `admit` reserved: one processing slot and one credit, until `settle`. */
export interface Ticket {
  readonly id: number;
  readonly licenseId: string;
}

export type Admission =
  | {
      ok: true;
      ticket: Ticket;
      credits: number;
      /** False when no fault was armed at that moment, so processing need not ask `takeFault` (a round trip with Redis); absent: ask. */
      faultsArmed?: boolean;
    }
  | { ok: false; reason: 'unknown-license' | 'no-credits' | 'credits-reserved' | 'license-busy' | 'server-busy'; credits: number };

export interface Settlement {
  /** True when a credit was spent; false when the admin took the credits away meanwhile. */
  spent: boolean;
  /** Credits left after the settlement. */
  credits: number;
}

export type { JournalEntry, JournalPart } from '../record/request-record.js';

/**
 * Retry discipline: the client (license and address) a journal entry belongs to, and the
 * `Retry-After` its answer gave, if any. The store flags the entry when it came before the
 * `Retry-After` of the client's last 429, and remembers a new one.
 */
export interface RetryWatch {
  client: string;
  retryAfterMs?: number;
}

/**
 * The mock's state behind one small interface with atomic operations, so that it can later
 * live in a file or in Redis shared by several replicas. Every method is async for that reason.
 * Each operation is atomic on its own: `admit` checks credits and slots and reserves both in one
 * step, which is what keeps credits exact under any race (M2).
 */
export interface MockStore {
  /** What holds the state, for health and the dashboard: `memory`, `file`, `redis`, or a store of your own. */
  readonly kind?: string;
  /** A license, unless there is none or it has expired (an expired license is as good as deleted). */
  getLicense(licenseId: string): Promise<LicenseState | undefined>;
  listLicenses(): Promise<LicenseState[]>;
  /** Replaces the changeable settings of a license; undefined when there is no such license. */
  updateLicense(licenseId: string, patch: Partial<Omit<LicenseConfig, 'licenseId'>>): Promise<LicenseState | undefined>;
  /** Adds a license, or replaces one of the same id, keeping its in-flight count. */
  putLicense(license: NewLicense): Promise<LicenseState>;
  /**
   * Removes a license with its journal entries and the faults armed for it; false when there was
   * none. Its requests in processing finish; their settlement changes nothing any more.
   */
  deleteLicense(licenseId: string): Promise<boolean>;
  /** Removes every license whose `expiresAt` has passed, as `deleteLicense` does; their ids. */
  deleteExpired(): Promise<string[]>;
  /** Back to these licenses, dropping journal and faults. Requests in flight keep their slot and credit. */
  reset(licenses: readonly LicenseConfig[]): Promise<void>;

  /**
   * Atomically: a credit not already reserved, a license slot and a global slot, or why not.
   * `no-credits` means none are left (402); `credits-reserved` that the ones left are all promised
   * to requests in processing (a 429: they come back if those fail).
   */
  admit(licenseId: string, globalMaxConcurrent: number): Promise<Admission>;
  /** Releases the ticket's slot and spends (`spend`) or frees its credit. Idempotent. */
  settle(ticket: Ticket, spend: boolean): Promise<Settlement>;
  /** Images in processing now, all licenses together. */
  inFlight(): Promise<number>;

  /** Adds an entry; with `retry`, flags it when it came too early (see {@link RetryWatch}) and says by how much. */
  appendJournal(entry: Omit<JournalEntry, 'seq'>, retry?: RetryWatch): Promise<{ earlyByMs?: number }>;
  listJournal(filter?: { licenseId?: string; limit?: number }): Promise<JournalEntry[]>;
  clearJournal(): Promise<void>;

  armFault(spec: FaultSpec): Promise<ArmedFault>;
  listFaults(): Promise<ArmedFault[]>;
  removeFault(id: string): Promise<boolean>;
  clearFaults(): Promise<void>;
  /**
   * The first armed fault that fires for this license, atomically: a counted one counts down, one
   * with a probability draws from its own seeded sequence (see `faults/chaos.ts`), whether it fires or not.
   */
  takeFault(licenseId: string | undefined): Promise<FiredFault | undefined>;

  /** Writes what is pending and lets go of what it holds (a file's lock, a connection); for a store that has any. */
  close?(): Promise<void>;
  /**
   * `degraded` while the store cannot be reached, its last write failed or its state was lost
   * (health says so); a store that is always there has none.
   */
  health?(): 'ok' | 'degraded';
  /** Why it is `degraded`, in a sentence, shown beside the status by health; optional, so a store of your own compiles without it. */
  healthReason?(): string | undefined;
  /** What the store could not keep or write yet, for health and the metrics; optional too. */
  counters?(): StoreCounters;
}

/** What a store could not keep or write yet (see {@link MockStore.counters}). */
export interface StoreCounters {
  /** Journal entries held in memory until the store takes them again (it is away, or its writes fail). */
  journalPending: number;
  /** Journal entries given up since the start: the ones waiting were already as many as the store holds. */
  journalDropped: number;
  /** Times the state was found gone under the running mock (a Redis restarted empty, a `FLUSHALL`). */
  stateLost: number;
}
