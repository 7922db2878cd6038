/**
 * What a case reports, with no dependency of its own: the context that cases are given and the
 * case declarations both use it, so neither imports the other for it.
 */

/** How a case's rule binds: asserted everywhere, asserted on the mock only, or only observed. */
export type RuleKind = 'documented' | 'mock-default' | 'unknown';

export type CaseStatus = 'pass' | 'fail' | 'skip' | 'error' | 'observed';

/** What a case reports; a case that returns nothing passed. */
export interface CaseResult {
  status: CaseStatus;
  message: string;
}
