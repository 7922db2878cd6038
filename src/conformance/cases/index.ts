import type { ConformanceCase } from '../types.js';
import { DOCUMENTED_CASES } from './documented.js';
import { MOCK_DEFAULT_CASES } from './mock-defaults.js';
import { UNKNOWN_CASES } from './unknowns.js';

/** Every case, declared once: documented rules, the mock's defaults, and the unknowns. */
export const ALL_CASES: readonly ConformanceCase[] = [...DOCUMENTED_CASES, ...MOCK_DEFAULT_CASES, ...UNKNOWN_CASES];

export { DOCUMENTED_CASES, MOCK_DEFAULT_CASES, UNKNOWN_CASES };
