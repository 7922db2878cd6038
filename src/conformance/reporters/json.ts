import type { RunReport } from '../runner.js';
import { summarize } from './summary.js';

/**
 * The JSON report: `{summary, cases[{id, rule, status, message, ...}], target, plan, observations}`.
 *
 * @example
 * ```ts
 * await writeFile('conformance.json', jsonReport(report));
 * ```
 */
export function jsonReport(report: RunReport): string {
  return `${JSON.stringify(
    {
      summary: summarize(report.outcomes),
      cases: report.outcomes.map(({ id, rule, status, message, title, kind, durationMs }) => ({ id, rule, status, message, title, kind, durationMs })),
      target: report.target,
      plan: report.plan,
      ...(report.stopped ? { stopped: report.stopped } : {}),
      observations: report.observations,
    },
    null,
    2,
  )}\n`;
}
