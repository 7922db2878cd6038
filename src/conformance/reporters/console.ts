import type { RunReport } from '../runner.js';
import type { CaseOutcome } from '../types.js';
import { rulesOf, verdictOf } from './summary.js';

const MARK: Record<CaseOutcome['status'], string> = { pass: 'pass', fail: 'FAIL', skip: 'skip', error: 'ERROR', observed: 'seen' };

/** One line per case as it ends, for a terminal or a log. */
export function consoleLine(outcome: CaseOutcome): string {
  return `${MARK[outcome.status].padEnd(5)} ${outcome.id.padEnd(28)} ${outcome.rule.padEnd(7)} ${outcome.message}`;
}

/** The line every run ends with, whatever the reporters: the verdict and the counts. */
export function summaryLine(report: RunReport): string {
  return verdictOf(report).line;
}

/**
 * The table of every case, then what was run (beia-kit's version, the target, the time), each
 * documented rule's verdict, and the summary line. A run that did not run is its one line.
 */
export function consoleReport(report: RunReport): string {
  if (report.notRun !== undefined) return `${summaryLine(report)}\n`;
  const lines = report.outcomes.map(consoleLine);
  lines.push(
    '',
    `beia-kit ${report.kit.version}, target ${report.target.endpoint} (${report.target.kind}), ${report.startedAt}, plan: at most ${report.plan.maxCredits} credits`,
  );
  if (report.stopped) lines.push(`stopped: ${report.stopped}`);
  for (const rule of rulesOf(report)) lines.push(`${rule.rule.padEnd(3)} ${rule.status}${rule.why ? `: ${rule.why}` : ''}`);
  lines.push(summaryLine(report));
  return `${lines.join('\n')}\n`;
}
