export { MemoryStore } from './memory-store.js';
export type { StoreSnapshot } from './memory-store.js';
export { FileStore } from './file-store.js';
export type { FileStoreOptions } from './file-store.js';
export { StoreError } from './store-error.js';
export { boundEntry, cutText, CUT_MARK, JOURNAL_TEXT_LIMIT, journalEntryBytes } from './journal-bounds.js';
export type { JournalBounds } from './journal-bounds.js';
export { RedisStore } from './redis-store.js';
export type { RedisStoreOptions } from './redis-store.js';
export { ANSWER_LOSING_FAULTS, FAULT_TYPES } from './types.js';
export { MAX_SEED } from '../faults/index.js';
export type {
  Admission,
  ArmedFault,
  FaultSpec,
  FaultType,
  FiredFault,
  JournalEntry,
  JournalPart,
  LicenseState,
  MockStore,
  NewLicense,
  Settlement,
  StoreCounters,
  Ticket,
} from './types.js';
