import type { RunReport } from '../runner.js';
import { rulesOf, suiteName, summarize, verdictOf } from './summary.js';

/**
 * The JSON report: `{kit, suite, target, startedAt, finishedAt, verdict, rules, summary,
 * cases[{id, rule, status, message, ...}], plan, observations}`, with `notRun` (why it did not
 * run) or `stopped` when it says so.
 *
 * @example
 * ```ts
 * await writeFile('conformance.json', jsonReport(report));
 * ```
 */
export function jsonReport(report: RunReport): string {
  const { tone, title, text } = verdictOf(report);
  return `${JSON.stringify(
    {
      kit: report.kit,
      suite: suiteName(report),
      target: report.target,
      startedAt: report.startedAt,
      finishedAt: report.finishedAt,
      ...(report.notRun !== undefined ? { notRun: `did not run: ${report.notRun}` } : {}),
      ...(report.stopped ? { stopped: report.stopped } : {}),
      verdict: { tone, title, text },
      rules: rulesOf(report),
      summary: summarize(report.outcomes),
      cases: report.outcomes.map(({ id, rule, status, message, title, kind, durationMs }) => ({ id, rule, status, message, title, kind, durationMs })),
      plan: report.plan,
      ...(report.leftBehind ? { leftBehind: report.leftBehind } : {}),
      observations: report.observations,
    },
    null,
    2,
  )}\n`;
}
