import type { CaseOutcome, ConformanceCase, Need } from './types.js';

/** Each rule of docs/rules.md in a few words, for reports. */
export const RULE_TITLES: Record<string, string> = {
  D1: 'POST /beia-api/v1/image with a multipart/form-data body',
  D2: 'licenseId, apiKey and image required; includeCroppedImage optional',
  D3: 'the License-Id header, equal to the form’s licenseId',
  D4: 'without extra results: 200 and one PNG',
  D5: 'with includeCroppedImage=true: multipart/mixed with result, cropped and credits',
  D6: 'every answer carries Credits-Remaining, the credits left',
  D7: 'the documented statuses: 400, 401, 402, 403, 415, 429, 500',
  D8: 'requests only from the license’s authorised addresses',
  D9: 'the vendor’s own samples are valid clients',
  M1: 'the order of the checks (the mock’s choice)',
  M2: 'a credit is spent only for a 200 (the mock’s choice)',
  M3: 'Credits-Remaining on errors once the license is known (the mock’s choice)',
  M4: 'strict booleans (the mock’s choice)',
  M5: 'multipart/mixed part labels and the credits part (the mock’s choice)',
  M6: 'the result image (the mock’s choice)',
  M7: 'the concurrency limit (the mock’s choice)',
  M8: 'the processing time (the mock’s choice)',
  M9: 'the error body (the mock’s choice)',
  M10: 'size and pixel limits (the mock’s choice)',
};

/** The rules the vendor's page documents, which a verdict on a target is about. */
export const DOCUMENTED_RULES: readonly string[] = ['D1', 'D2', 'D3', 'D4', 'D5', 'D6', 'D7', 'D8', 'D9'];

/** The flag (or target) that gives a case what it needs. */
export const NEED_FLAG: Record<Need, string> = {
  'zero-credit-license': '--zero-credit-license ID:KEY (a license without credits)',
  'unlisted-source-address': '--unlisted-source-address IP (an address of this machine not on the allowlist)',
  'admin-api': '--admin (a beia mock at a URL) or --target mock: only a beia mock can be made to fail on purpose',
};

export interface RuleVerdict {
  rule: string;
  title: string;
  /** `verified`: every case of the rule ran and it held; `failed`: a case found it broken; `not verified`: some case did not run. */
  status: 'verified' | 'failed' | 'not verified';
  /** The cases that check it. */
  cases: string[];
  /** Why it failed or was not verified, in words. */
  why?: string;
  /** The flags that would verify it, when that is what is missing. */
  flags?: string[];
}

/** The documented rules a case checks: "D7, D8" checks both; "D7?" (an unknown near D7) none. */
export function documentedRulesOf(outcome: Pick<CaseOutcome, 'rule' | 'kind'>): string[] {
  if (outcome.kind !== 'documented') return [];
  return outcome.rule.split(/[,\s]+/).filter((rule) => DOCUMENTED_RULES.includes(rule));
}

/**
 * Per documented rule (D1 to D9), whether the run verified it: failed when a case of it failed;
 * verified when every case of it ran and held (an `observed` case held: the page allows what was
 * seen); otherwise not verified, with the cases that did not run, why, and the flags that would
 * run them.
 */
export function ruleVerdicts(
  outcomes: readonly CaseOutcome[],
  notRun?: string,
  allCases: ReadonlyArray<Pick<ConformanceCase, 'id' | 'rule' | 'kind'>> = [],
): RuleVerdict[] {
  return DOCUMENTED_RULES.map((rule): RuleVerdict => {
    const mine = outcomes.filter((o) => documentedRulesOf(o).includes(rule));
    // Cases of the rule that --only or --skip left out of the run.
    const unselected = allCases.filter((c) => documentedRulesOf(c).includes(rule) && !mine.some((o) => o.id === c.id)).map((c) => c.id);
    const base = { rule, title: RULE_TITLES[rule]!, cases: [...mine.map((o) => o.id), ...unselected] };
    if (notRun !== undefined) return { ...base, status: 'not verified', why: `did not run: ${notRun}` };
    const failed = mine.filter((o) => o.status === 'fail');
    if (failed.length > 0) return { ...base, status: 'failed', why: `${failed.map((o) => o.id).join(', ')} failed` };
    if (mine.length === 0) return { ...base, status: 'not verified', why: 'none of its cases was selected (--only, --skip)' };
    const missed = mine.filter((o) => o.status === 'skip' || o.status === 'error');
    if (missed.length === 0 && unselected.length === 0) return { ...base, status: 'verified' };
    const flags = [...new Set(missed.flatMap((o) => (o.status === 'skip' ? (o.needs ?? []) : [])).map((need) => NEED_FLAG[need]))];
    const why = missed
      .map((o) => {
        if (o.status === 'error') return `${o.id} could not run (${o.message})`;
        if (o.needs?.length) return `${o.id} not run: give ${o.needs.map((need) => NEED_FLAG[need]).join(' and ')}`;
        return `${o.id} not run: ${o.message}`;
      })
      .concat(unselected.length ? [`${unselected.join(', ')} not selected (--only, --skip)`] : [])
      .join('; ');
    return { ...base, status: 'not verified', why, ...(flags.length ? { flags } : {}) };
  });
}
