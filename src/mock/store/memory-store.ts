import type { LicenseConfig } from '../config/index.js';
import { newArmedFault, tryFire } from '../faults/index.js';
import { DEFAULT_MAX_JOURNAL_BYTES, journalEntryBytes, type JournalBounds } from './journal-bounds.js';
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
  Ticket,
} from './types.js';

/** The state a store keeps across restarts (see {@link MemoryStore.snapshot}). */
export interface StoreSnapshot {
  licenses: NewLicense[];
  journal: JournalEntry[];
  nextSeq: number;
  faults: ArmedFault[];
  nextFault: number;
}

interface LicenseRecord extends LicenseState {
  /** Credits promised to requests in processing, spent or freed by `settle`. */
  reserved: number;
}

/**
 * The store in this process's memory. Node runs one handler at a time, so each method is
 * atomic as long as it does not await between its check and its change; none does.
 *
 * @example
 * ```ts
 * const store = new MemoryStore(config.licenses, { maxJournalEntries: 1000, maxJournalBytes: 8 * 1024 * 1024 });
 * const admission = await store.admit('1234', 64);
 * ```
 */
export class MemoryStore implements MockStore {
  readonly kind: string = 'memory';
  #licenses = new Map<string, LicenseRecord>();
  #tickets = new Map<number, LicenseRecord>();
  /** The outcome of the newest settled tickets: a second settle of one changes nothing and gives it again. */
  readonly #settled = new Map<number, Settlement>();
  #nextTicket = 1;
  #journal: JournalEntry[] = [];
  /** The JSON bytes of the entries in `#journal`, together, and of each one. */
  #journalBytes = 0;
  // A Map, not a WeakMap: the entries come and go on every request, and a WeakMap's keys cost the
  // garbage collector work of their own; the dropped ones are deleted by hand.
  #entryBytes = new Map<JournalEntry, number>();
  #nextSeq = 1;
  #faults: ArmedFault[] = [];
  #nextFault = 1;
  readonly #maxJournalEntries: number;
  readonly #maxJournalBytes: number;
  #deletions = 0;
  /** No license expires before this time (ms): lists sweep expired licenses only from then on, a cheap test per read. */
  #nextExpiry = Infinity;
  /** When each client (license and address) that got a 429 may come back. */
  readonly #retryNotBefore = new Map<string, number>();

  /** `restore` starts from a {@link snapshot} instead of the licenses given. */
  constructor(licenses: readonly LicenseConfig[], options: JournalBounds & { restore?: StoreSnapshot }) {
    this.#maxJournalEntries = options.maxJournalEntries;
    this.#maxJournalBytes = options.maxJournalBytes ?? DEFAULT_MAX_JOURNAL_BYTES;
    const restore = options.restore;
    if (restore) {
      this.#load(restore.licenses);
      // A journal kept under other bounds (the config changed): the newest that fit these.
      this.#setJournal(this.#maxJournalEntries === 0 ? [] : restore.journal.slice(-this.#maxJournalEntries).map((entry) => ({ ...entry })));
      this.#trimJournal();
      this.#nextSeq = restore.nextSeq;
      this.#faults = restore.faults.map((fault) => ({ ...fault }));
      this.#nextFault = restore.nextFault;
    } else {
      this.#load(licenses);
    }
  }

  /** What outlives the process: licenses with their credits, journal and faults; not what is in processing. */
  snapshot(): StoreSnapshot {
    return {
      licenses: [...this.#licenses.values()].map(({ inFlight: _inFlight, reserved: _reserved, ...license }) => ({
        ...license,
        allowedIps: [...license.allowedIps],
      })),
      journal: this.#journal.map((entry) => ({ ...entry })),
      nextSeq: this.#nextSeq,
      faults: this.#faults.map((fault) => ({ ...fault })),
      nextFault: this.#nextFault,
    };
  }

  /** The `seq` the next journal entry gets. */
  get nextSeq(): number {
    return this.#nextSeq;
  }

  /** The live record of a license: an expired one is deleted on the spot, and is not there. */
  #record(licenseId: string): LicenseRecord | undefined {
    const record = this.#licenses.get(licenseId);
    if (record?.expiresAt !== undefined && Date.parse(record.expiresAt) <= Date.now()) {
      this.#delete(licenseId);
      return undefined;
    }
    return record;
  }

  async getLicense(licenseId: string): Promise<LicenseState | undefined> {
    const record = this.#record(licenseId);
    return record && view(record);
  }

  async listLicenses(): Promise<LicenseState[]> {
    this.#expireDue();
    return [...this.#licenses.values()].map(view);
  }

  async deleteLicense(licenseId: string): Promise<boolean> {
    return this.#record(licenseId) !== undefined && this.#delete(licenseId);
  }

  async deleteExpired(): Promise<string[]> {
    return this.#deleteExpired();
  }

  /** Removes every expired license with its journal entries and faults; then notes when the next one expires. */
  #deleteExpired(): string[] {
    const now = Date.now();
    const expired: string[] = [];
    let next = Infinity;
    for (const record of this.#licenses.values()) {
      if (record.expiresAt === undefined) continue;
      const at = Date.parse(record.expiresAt);
      if (at <= now) expired.push(record.licenseId);
      else next = Math.min(next, at);
    }
    for (const licenseId of expired) this.#delete(licenseId);
    this.#nextExpiry = next;
    return expired;
  }

  /** An expired license goes with its journal entries and faults as soon as a list would show them. */
  #expireDue(): void {
    if (Date.now() >= this.#nextExpiry) this.#deleteExpired();
  }

  /** Gives back the credit a ticket's settle spent (a spend its store could not record); nothing for a license that is gone. */
  refund(ticket: Ticket): void {
    const record = this.#licenses.get(ticket.licenseId);
    if (record) record.credits += 1;
    if (this.#settled.has(ticket.id)) this.#settled.set(ticket.id, { spent: false, credits: record?.credits ?? 0 });
  }

  /** Licenses deleted so far, expired ones included: a store that persists watches it. */
  get deletions(): number {
    return this.#deletions;
  }

  #delete(licenseId: string): boolean {
    if (!this.#licenses.delete(licenseId)) return false;
    this.#deletions += 1;
    this.#setJournal(this.#journal.filter((entry) => entry.licenseId !== licenseId));
    this.#faults = this.#faults.filter((fault) => fault.licenseId !== licenseId);
    return true;
  }

  async updateLicense(licenseId: string, patch: Partial<Omit<LicenseConfig, 'licenseId'>>): Promise<LicenseState | undefined> {
    const record = this.#record(licenseId);
    if (!record) return undefined;
    if (patch.apiKey !== undefined) record.apiKey = patch.apiKey;
    if (patch.credits !== undefined) record.credits = patch.credits;
    if (patch.allowedIps !== undefined) record.allowedIps = [...patch.allowedIps];
    if (patch.maxConcurrent !== undefined) record.maxConcurrent = patch.maxConcurrent;
    return view(record);
  }

  async putLicense(license: NewLicense): Promise<LicenseState> {
    const existing = this.#record(license.licenseId);
    if (existing) {
      if (license.expiresAt === undefined) delete existing.expiresAt;
      else existing.expiresAt = license.expiresAt;
      this.#noteExpiry(existing);
      return (await this.updateLicense(license.licenseId, license))!;
    }
    const record = newRecord(license);
    this.#licenses.set(license.licenseId, record);
    this.#noteExpiry(record);
    return view(record);
  }

  async reset(licenses: readonly LicenseConfig[]): Promise<void> {
    this.#load(licenses);
    this.#setJournal([]);
    this.#faults = [];
  }

  async admit(licenseId: string, globalMaxConcurrent: number): Promise<Admission> {
    const record = this.#record(licenseId);
    if (!record) return { ok: false, reason: 'unknown-license', credits: 0 };
    if (record.credits <= 0) return { ok: false, reason: 'no-credits', credits: record.credits };
    if (record.credits - record.reserved <= 0) return { ok: false, reason: 'credits-reserved', credits: record.credits };
    if (record.inFlight >= record.maxConcurrent) return { ok: false, reason: 'license-busy', credits: record.credits };
    if (this.#tickets.size >= globalMaxConcurrent) return { ok: false, reason: 'server-busy', credits: record.credits };
    record.inFlight += 1;
    record.reserved += 1;
    const ticket: Ticket = { id: this.#nextTicket++, licenseId };
    this.#tickets.set(ticket.id, record);
    return { ok: true, ticket, credits: record.credits, faultsArmed: this.#faults.length > 0 };
  }

  async settle(ticket: Ticket, spend: boolean): Promise<Settlement> {
    const record = this.#tickets.get(ticket.id);
    if (!record) {
      // Settled already (the first outcome again), or dropped with its license: nothing is held any more.
      const first = this.#settled.get(ticket.id);
      if (first) return { ...first };
      const current = this.#licenses.get(ticket.licenseId);
      return { spent: false, credits: current?.credits ?? 0 };
    }
    this.#tickets.delete(ticket.id);
    record.inFlight -= 1;
    record.reserved -= 1;
    const spent = spend && record.credits > 0;
    if (spent) record.credits -= 1;
    const settlement = { spent, credits: record.credits };
    this.#settled.set(ticket.id, settlement);
    if (this.#settled.size > SETTLED_KEPT) this.#settled.delete(this.#settled.keys().next().value!);
    return { ...settlement };
  }

  async inFlight(): Promise<number> {
    return this.#tickets.size;
  }

  async appendJournal(entry: Omit<JournalEntry, 'seq'>, retry?: RetryWatch): Promise<{ earlyByMs?: number }> {
    const early = this.#watchRetry(retry);
    if (early !== undefined) entry = { ...entry, retryTooEarly: true, earlyByMs: early };
    if (this.#maxJournalEntries === 0) return early === undefined ? {} : { earlyByMs: early };
    const added: JournalEntry = { seq: this.#nextSeq++, ...entry };
    this.#journal.push(added);
    this.#journalBytes += this.#bytesOf(added);
    this.#trimJournal();
    return early === undefined ? {} : { earlyByMs: early };
  }

  /** Drops the oldest entries while there are more than `maxJournalEntries` or their bytes exceed `maxJournalBytes`; never the newest. */
  #trimJournal(): void {
    let drop = 0;
    let bytes = this.#journalBytes;
    while (this.#journal.length - drop > 1 && (this.#journal.length - drop > this.#maxJournalEntries || bytes > this.#maxJournalBytes)) {
      bytes -= this.#bytesOf(this.#journal[drop]!);
      drop += 1;
    }
    if (drop === 0) return;
    for (let i = 0; i < drop; i++) this.#entryBytes.delete(this.#journal[i]!);
    this.#journal.splice(0, drop);
    this.#journalBytes = bytes;
  }

  #setJournal(entries: JournalEntry[]): void {
    const known = this.#entryBytes;
    this.#entryBytes = new Map();
    for (const entry of entries) {
      const bytes = known.get(entry);
      if (bytes !== undefined) this.#entryBytes.set(entry, bytes);
    }
    this.#journal = entries;
    this.#journalBytes = entries.reduce((sum, entry) => sum + this.#bytesOf(entry), 0);
  }

  /** An entry's JSON bytes, measured once. */
  #bytesOf(entry: JournalEntry): number {
    let bytes = this.#entryBytes.get(entry);
    if (bytes === undefined) {
      bytes = journalEntryBytes(entry);
      this.#entryBytes.set(entry, bytes);
    }
    return bytes;
  }

  /** How early this request is for the client's last Retry-After, then the new one noted. */
  #watchRetry(retry: RetryWatch | undefined): number | undefined {
    if (!retry) return undefined;
    const now = Date.now();
    const notBefore = this.#retryNotBefore.get(retry.client);
    const early = notBefore !== undefined && notBefore > now ? notBefore - now : undefined;
    if (notBefore !== undefined && notBefore <= now) this.#retryNotBefore.delete(retry.client);
    if (retry.retryAfterMs !== undefined) {
      if (this.#retryNotBefore.size >= 10_000) this.#retryNotBefore.delete(this.#retryNotBefore.keys().next().value!);
      this.#retryNotBefore.set(retry.client, now + retry.retryAfterMs);
    }
    return early;
  }

  async listJournal(filter: { licenseId?: string; limit?: number } = {}): Promise<JournalEntry[]> {
    this.#expireDue();
    const matching = filter.licenseId === undefined ? this.#journal : this.#journal.filter((e) => e.licenseId === filter.licenseId);
    const from = filter.limit === undefined ? 0 : Math.max(0, matching.length - filter.limit);
    return matching.slice(from);
  }

  async clearJournal(): Promise<void> {
    this.#setJournal([]);
  }

  async armFault(spec: FaultSpec): Promise<ArmedFault> {
    const fault = newArmedFault(spec, `f${this.#nextFault++}`);
    this.#faults.push(fault);
    return { ...fault };
  }

  async listFaults(): Promise<ArmedFault[]> {
    this.#expireDue();
    return this.#faults.map((fault) => ({ ...fault }));
  }

  async removeFault(id: string): Promise<boolean> {
    const before = this.#faults.length;
    this.#faults = this.#faults.filter((fault) => fault.id !== id);
    return this.#faults.length < before;
  }

  async clearFaults(): Promise<void> {
    this.#faults = [];
  }

  async takeFault(licenseId: string | undefined): Promise<FiredFault | undefined> {
    for (const fault of this.#faults) {
      if (fault.licenseId !== undefined && fault.licenseId !== licenseId) continue;
      const fired = tryFire(fault);
      if (fault.count !== undefined && fault.count <= 0) this.#faults = this.#faults.filter((f) => f !== fault);
      if (fired) return fired;
    }
    return undefined;
  }

  /** Whether a fault that draws is armed: each request then moves its seeded sequence on. */
  get drawsFaults(): boolean {
    return this.#faults.some((fault) => fault.probability !== undefined);
  }

  #noteExpiry(record: LicenseRecord): void {
    if (record.expiresAt !== undefined) this.#nextExpiry = Math.min(this.#nextExpiry, Date.parse(record.expiresAt));
  }

  #load(licenses: readonly NewLicense[]): void {
    this.#licenses = new Map(licenses.map((license) => [license.licenseId, newRecord(license)]));
    this.#nextExpiry = Infinity;
    for (const record of this.#licenses.values()) this.#noteExpiry(record);
    // Requests in processing keep their slot and reserved credit on the license's new record;
    // those of a license that no longer exists settle as nothing.
    const carried = new Map<number, LicenseRecord>();
    for (const [id, old] of this.#tickets) {
      const record = this.#licenses.get(old.licenseId);
      if (!record) continue;
      record.inFlight += 1;
      record.reserved += 1;
      carried.set(id, record);
    }
    this.#tickets = carried;
  }
}

/** How many settled tickets' outcomes the store remembers: far more than are ever settled twice in flight. */
const SETTLED_KEPT = 10_000;

function newRecord(license: NewLicense): LicenseRecord {
  const { licenseId, apiKey, credits, allowedIps, maxConcurrent, expiresAt } = license;
  const record: LicenseRecord = { licenseId, apiKey, credits, allowedIps: [...allowedIps], maxConcurrent, inFlight: 0, reserved: 0 };
  if (expiresAt !== undefined) record.expiresAt = expiresAt;
  return record;
}

function view(record: LicenseRecord): LicenseState {
  const { reserved: _reserved, ...state } = record;
  return { ...state, allowedIps: [...state.allowedIps] };
}
