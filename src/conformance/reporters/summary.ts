import type { CaseOutcome } from '../types.js';

export interface Summary {
  passed: number;
  failed: number;
  skipped: number;
  errored: number;
  observed: number;
}

export function summarize(outcomes: readonly CaseOutcome[]): Summary {
  const count = (status: CaseOutcome['status']) => outcomes.filter((o) => o.status === status).length;
  return { passed: count('pass'), failed: count('fail'), skipped: count('skip'), errored: count('error'), observed: count('observed') };
}
