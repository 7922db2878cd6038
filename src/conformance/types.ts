import type { CaseContext } from './context.js';
import type { CaseResult, CaseStatus, RuleKind } from './results.js';

export type { CaseResult, CaseStatus, RuleKind } from './results.js';

/** What a case needs from the caller beyond a license; without it the case is skipped. */
export type Need = 'zero-credit-license' | 'unlisted-source-address' | 'admin-api';

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
  /** The rules of docs/rules.md it checks, e.g. "D7" or "M3". */
  rule: string;
  kind: RuleKind;
  tags: CaseTags;
  run(ctx: CaseContext): Promise<CaseResult | void>;
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
