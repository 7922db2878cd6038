import type { RunReport } from '../runner.js';
import { summarize } from './summary.js';

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * JUnit XML for CI dashboards: a `fail` is a <failure>, an `error` an <error>, a `skip` <skipped>,
 * and an `observed` case passes with what was seen in <system-out>.
 */
export function junitReport(report: RunReport): string {
  const summary = summarize(report.outcomes);
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const total = report.outcomes.reduce((sum, o) => sum + o.durationMs, 0);
  const cases = report.outcomes.map((o) => {
    const open = `    <testcase classname="beia.conformance.${escape(o.rule.replace(/[^A-Za-z0-9]+/g, '_'))}" name="${escape(`${o.id}: ${o.title}`)}" time="${seconds(o.durationMs)}"`;
    const message = escape(o.message);
    if (o.status === 'fail') return `${open}>\n      <failure message="${message}"/>\n    </testcase>`;
    if (o.status === 'error') return `${open}>\n      <error message="${message}"/>\n    </testcase>`;
    if (o.status === 'skip') return `${open}>\n      <skipped message="${message}"/>\n    </testcase>`;
    if (o.status === 'observed') return `${open}>\n      <system-out>observed: ${message}</system-out>\n    </testcase>`;
    return `${open}/>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="beia conformance" tests="${report.outcomes.length}" failures="${summary.failed}" errors="${summary.errored}" skipped="${summary.skipped}" time="${seconds(total)}">`,
    `  <testsuite name="${escape(report.target.endpoint)}" tests="${report.outcomes.length}" failures="${summary.failed}" errors="${summary.errored}" skipped="${summary.skipped}" time="${seconds(total)}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
