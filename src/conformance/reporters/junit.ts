import type { RunReport } from '../runner.js';
import { rulesOf, suiteName, summarize, verdictOf } from './summary.js';

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * JUnit XML for CI dashboards: a `fail` is a <failure>, an `error` an <error>, a `skip` <skipped>,
 * and an `observed` case passes with what was seen in <system-out>. The suite's name is the same
 * from run to run (`beia conformance: mock` for the in-process mock); its properties say which
 * beia-kit ran, against what, when, and each documented rule's verdict. A run that did not run is
 * one <error> saying why.
 */
export function junitReport(report: RunReport): string {
  const summary = summarize(report.outcomes);
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const total = report.outcomes.reduce((sum, o) => sum + o.durationMs, 0);
  const property = (name: string, value: string) => `      <property name="${escape(name)}" value="${escape(value)}"/>`;
  const properties = [
    '    <properties>',
    property('beia-kit.version', report.kit.version),
    property('target', report.target.endpoint),
    property('target.kind', report.target.kind),
    property('startedAt', report.startedAt),
    property('verdict', verdictOf(report).line),
    ...rulesOf(report).map((rule) => property(`rule.${rule.rule}`, `${rule.status}${rule.why ? `: ${rule.why}` : ''}`)),
    '    </properties>',
  ];
  const cases =
    report.notRun !== undefined
      ? [
          `    <testcase classname="beia.conformance" name="preflight" time="0.000">\n      <error message="${escape(`did not run: ${report.notRun}`)}"/>\n    </testcase>`,
        ]
      : report.outcomes.map((o) => {
          const open = `    <testcase classname="beia.conformance.${escape(o.rule.replace(/[^A-Za-z0-9]+/g, '_'))}" name="${escape(`${o.id}: ${o.title}`)}" time="${seconds(o.durationMs)}"`;
          const message = escape(o.message);
          if (o.status === 'fail') return `${open}>\n      <failure message="${message}"/>\n    </testcase>`;
          if (o.status === 'error') return `${open}>\n      <error message="${message}"/>\n    </testcase>`;
          if (o.status === 'skip') return `${open}>\n      <skipped message="${message}"/>\n    </testcase>`;
          if (o.status === 'observed') return `${open}>\n      <system-out>observed: ${message}</system-out>\n    </testcase>`;
          return `${open}/>`;
        });
  const tests = report.notRun !== undefined ? 1 : report.outcomes.length;
  const errors = report.notRun !== undefined ? 1 : summary.errored;
  const counts = `tests="${tests}" failures="${summary.failed}" errors="${errors}" skipped="${summary.skipped}" time="${seconds(total)}"`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="beia conformance" ${counts}>`,
    `  <testsuite name="${escape(suiteName(report))}" timestamp="${escape(report.startedAt)}" ${counts}>`,
    ...properties,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
