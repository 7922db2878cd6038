import type { CaseContext } from './context.js';

/** What a case needs from the caller beyond a license; without it the case is skipped. */
export type Need = 'zero-credit-license' | 'unlisted-source-address' | 'admin-api';

/** How a case's rule binds: asserted everywhere, asserted on the mock only, or only observed. */
export type RuleKind = 'documented' | 'mock-default' | 'unknown';

export type CaseStatus = 'pass' | 'fail' | 'skip' | 'error' | 'observed';

export interface CaseTags {
  /** Credits the case's own requests may spend. */
  credits: number;
  /**
   * The paid answers the case reads, made once per run and shared: each costs one credit in the
   * plan however many cases read it.
   */
  shares?: Array<'png' | 'mixed'>;
  needs: Need[];
  /** Sends many requests at once. */
  load?: boolean;
}

/** One conformance case, declared once, run against any target. */
export interface ConformanceCase {
  id: string;
  title: string;
  /** The rules of CONTRACT.md it checks, e.g. "D7" or "M3". */
  rule: string;
  kind: RuleKind;
  tags: CaseTags;
  run(ctx: CaseContext): Promise<CaseResult | void>;
}

/** What a case reports; a case that returns nothing passed. */
export interface CaseResult {
  status: CaseStatus;
  message: string;
}

/** A case's outcome as reports carry it. */
export interface CaseOutcome {
  id: string;
  title: string;
  rule: string;
  kind: RuleKind;
  status: CaseStatus;
  message: string;
  durationMs: number;
  /** What the caller did not give, for a case skipped for want of it: the flags that would run it. */
  needs?: Need[];
}
