import type { Target } from './context.js';
import type { ConformanceCase, Need } from './types.js';

export interface PlanOptions {
  /** Keep only cases matching one of these: an id, a rule (D7), a kind, or a tag (free, paid, load, a need). */
  only?: string[];
  /** Leave out cases matching one of these. */
  skip?: string[];
}

export interface PlannedCase {
  case: ConformanceCase;
  /** Why it will not run, when it will not. */
  skipReason?: string;
  /** The needs the target lacks, when that is why. */
  missing?: Need[];
}

export interface Plan {
  cases: PlannedCase[];
  /** The most credits the runnable cases can spend: their own, plus each shared paid answer once. */
  maxCredits: number;
}

/** What would give a case what it needs, in the words of a skip message. */
export const NEED_HINT: Record<Need, string> = {
  'zero-credit-license': 'give --zero-credit-license ID:KEY',
  'unlisted-source-address': 'give --unlisted-source-address IP (a local address not on the allowlist)',
  'admin-api': "needs beia mock's admin API: --target mock, or --admin for a beia mock at a URL",
};

/** The tags a case answers to in --only and --skip. */
export function caseTags(c: ConformanceCase): string[] {
  const paid = c.tags.credits > 0 || (c.tags.shares?.length ?? 0) > 0;
  return [c.id, ...c.rule.split(/[,\s]+/).filter(Boolean), c.kind, paid ? 'paid' : 'free', ...(c.tags.load ? ['load'] : []), ...c.tags.needs];
}

/** The credits a case may spend alone (its own, and the paid answers it reads). */
export function caseCost(c: ConformanceCase): number {
  return c.tags.credits + (c.tags.shares?.length ?? 0);
}

/**
 * Which cases run, in what order (the cheapest first, so a budget stops the dearest), and the
 * most they can spend. A case whose needs the target lacks is kept, with the reason it is skipped.
 */
export function planRun(cases: readonly ConformanceCase[], target: Target, options: PlanOptions = {}): Plan {
  const matches = (c: ConformanceCase, tokens: string[]) => {
    const tags = caseTags(c).map((t) => t.toLowerCase());
    return tokens.some((token) => tags.includes(token.toLowerCase()));
  };
  const unknown = [...(options.only ?? []), ...(options.skip ?? [])].filter((token) => !cases.some((c) => matches(c, [token])));
  if (unknown.length > 0) {
    throw new Error(
      `--only/--skip name no case: ${unknown.join(', ')}. Use a case id, a rule (D1..D9, M1..M10), a kind (documented, mock-default, unknown) or a tag (free, paid, load, zero-credit-license, unlisted-source-address, admin-api).`,
    );
  }
  const selected = cases.filter((c) => (!options.only?.length || matches(c, options.only)) && !(options.skip?.length && matches(c, options.skip)));
  const ordered = [...selected].sort((a, b) => caseCost(a) - caseCost(b));
  const planned = ordered.map((c): PlannedCase => {
    const missing = c.tags.needs.filter((need) => !has(target, need));
    if (missing.length) return { case: c, skipReason: `needs ${missing.join(', ')}: ${missing.map((m) => NEED_HINT[m]).join('; ')}`, missing };
    if (c.tags.needs.includes('unlisted-source-address') && target.proxy !== undefined) {
      // Through a proxy the target sees the proxy's (its NAT's) address, whatever this machine sends from.
      const reason = `needs unlisted-source-address: through the proxy ${target.proxy} the target sees the proxy's address, not --unlisted-source-address; run this case with a direct route (NO_PROXY naming the target's host)`;
      return { case: c, skipReason: reason, missing: ['unlisted-source-address'] };
    }
    return { case: c };
  });
  const runnable = planned.filter((p) => !p.skipReason).map((p) => p.case);
  const shares = new Set(runnable.flatMap((c) => c.tags.shares ?? []));
  return { cases: planned, maxCredits: runnable.reduce((sum, c) => sum + c.tags.credits, 0) + shares.size };
}

function has(target: Target, need: Need): boolean {
  if (need === 'admin-api') return target.admin !== undefined;
  if (need === 'zero-credit-license') return target.zeroCreditLicense !== undefined || (target.makeZeroCreditLicense === true && target.admin !== undefined);
  return target.unlistedSourceAddress !== undefined;
}
