export { MemoryStore } from './memory-store.js';
export { FAULT_TYPES } from './types.js';
export type {
  Admission,
  ArmedFault,
  FaultSpec,
  FaultType,
  JournalEntry,
  JournalPart,
  LicenseState,
  MockStore,
  NewLicense,
  Settlement,
  Ticket,
} from './types.js';
