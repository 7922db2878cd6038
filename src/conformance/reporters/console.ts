import type { RunReport } from '../runner.js';
import type { CaseOutcome } from '../types.js';
import { summarize } from './summary.js';

const MARK: Record<CaseOutcome['status'], string> = { pass: 'pass', fail: 'FAIL', skip: 'skip', error: 'ERROR', observed: 'seen' };

/** One line per case as it ends, for a terminal or a log. */
export function consoleLine(outcome: CaseOutcome): string {
  return `${MARK[outcome.status].padEnd(5)} ${outcome.id.padEnd(28)} ${outcome.rule.padEnd(7)} ${outcome.message}`;
}

/** The table of every case and the summary line. */
export function consoleReport(report: RunReport): string {
  const s = summarize(report.outcomes);
  const lines = report.outcomes.map(consoleLine);
  lines.push('', `target ${report.target.endpoint} (${report.target.kind}), plan: at most ${report.plan.maxCredits} credits`);
  if (report.stopped) lines.push(`stopped: ${report.stopped}`);
  lines.push(`${s.passed} passed, ${s.failed} failed, ${s.errored} errored, ${s.skipped} skipped, ${s.observed} observed`);
  return `${lines.join('\n')}\n`;
}
