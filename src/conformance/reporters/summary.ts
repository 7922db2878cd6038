import { DOCUMENTED_RULES, ruleVerdicts, type RuleVerdict } from '../rules.js';
import type { RunReport } from '../runner.js';
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

/** `3 passed, 0 failed, 0 errored, 1 skipped, 2 observed`. */
export function countsText(s: Summary): string {
  return `${s.passed} passed, ${s.failed} failed, ${s.errored} errored, ${s.skipped} skipped, ${s.observed} observed`;
}

/** The per-rule verdicts of a report (D1 to D9). */
export function rulesOf(report: RunReport): RuleVerdict[] {
  return report.rules ?? ruleVerdicts(report.outcomes, report.notRun);
}

/** What a report says first, in every reporter: a tone, a title and a sentence. */
export interface Verdict {
  /** `good`: every documented rule verified and held; `partial`: those verified hold, some were not verified; `bad`: a rule broken; `warn`: not a verdict on the target. */
  tone: 'good' | 'partial' | 'bad' | 'warn';
  title: string;
  text: string;
  /** The same in one line, for a console or a CI log. */
  line: string;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * The verdict on a run, honest about its coverage: "N of M documented rules verified, all hold"
 * when some rule was not verified; "do not release" only when the target broke a documented rule;
 * "did not run" when the caller's mistake (a wrong URL, a wrong key) stopped it, since nothing was
 * learnt about the target then.
 */
export function verdictOf(report: RunReport): Verdict {
  const s = summarize(report.outcomes);
  const counts = countsText(s);
  if (report.notRun !== undefined) {
    const text = `did not run: ${report.notRun}`;
    return { tone: 'warn', title: 'Did not run', text: `${text}. Nothing was learnt about the target.`, line: text };
  }
  const rules = rulesOf(report);
  const total = DOCUMENTED_RULES.length;
  const broken = rules.filter((r) => r.status === 'failed').map((r) => r.rule);
  const verified = rules.filter((r) => r.status === 'verified').length;
  const notVerified = rules.filter((r) => r.status === 'not verified');
  const coverage = `${verified} of ${total} documented rules verified`;
  if (report.stopped) {
    const before = broken.length ? ` Before it stopped, the target broke ${broken.join(', ')}.` : '';
    return { tone: 'warn', title: 'Stopped before the end', text: `${report.stopped}.${before}`, line: `stopped before the end: ${report.stopped}; ${counts}` };
  }
  if (s.failed > 0) {
    const title = `${plural(s.failed, 'case')} failed`;
    if (broken.length > 0) {
      const rulesText = broken.length === 1 ? 'a documented rule' : `${broken.length} documented rules`;
      return {
        tone: 'bad',
        title,
        text: `The target breaks ${rulesText} of the vendor’s page (${broken.join(', ')}): do not release on it.`,
        line: `the target breaks ${broken.length} of ${total} documented rules (${broken.join(', ')}): do not release on it; ${counts}`,
      };
    }
    const ids = report.outcomes.filter((o) => o.status === 'fail').map((o) => o.rule);
    return {
      tone: 'bad',
      title,
      text: `The target breaks a choice the mock asserts (${[...new Set(ids)].join(', ')}); ${coverage}, all hold.`,
      line: `the target breaks a choice the mock asserts (${[...new Set(ids)].join(', ')}); ${coverage}; ${counts}`,
    };
  }
  if (s.errored > 0) {
    return {
      tone: 'warn',
      title: `${plural(s.errored, 'case')} could not run`,
      text: `The suite or the network failed; the target was not judged on those. ${coverage}.`,
      line: `${plural(s.errored, 'case')} could not run; ${coverage}; ${counts}`,
    };
  }
  const title = `${coverage}, all hold`;
  if (notVerified.length === 0) return { tone: 'good', title, text: `${counts}.`, line: `${title}; ${counts}` };
  return {
    tone: 'partial',
    title,
    text: `Not verified: ${notVerified.map((r) => `${r.rule} (${r.why})`).join('; ')}.`,
    line: `${title} (not verified: ${notVerified.map((r) => r.rule).join(', ')}); ${counts}`,
  };
}

/** A target as reports name it, the same from run to run: an in-process mock's port changes each time. */
export function suiteName(report: RunReport): string {
  return `beia conformance: ${report.target.kind === 'mock' ? 'mock' : report.target.endpoint}`;
}
