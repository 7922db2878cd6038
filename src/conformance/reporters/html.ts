import type { Drift } from '../observations.js';
import { RULE_TITLES, type RuleVerdict } from '../rules.js';
import type { RunReport } from '../runner.js';
import type { CaseOutcome } from '../types.js';
import { rulesOf, summarize, verdictOf } from './summary.js';

export { RULE_TITLES };

export interface HtmlReportOptions {
  /** The drift from a previous record, with where that record came from. */
  drift?: { file: string; recordedAt: string; changes: Drift[] };
  /** When the run happened; now when absent. */
  generatedAt?: Date;
}

const STATUS_LABEL: Record<CaseOutcome['status'], string> = { pass: 'pass', fail: 'FAIL', skip: 'skip', error: 'error', observed: 'observed' };

/** Text safe in HTML content and in quoted attributes. */
export function escapeHtml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The rule a case is named after (`D8-403-unlisted-address` under D8, though it checks D7 too); the unknowns under "other". */
function ruleOf(outcome: CaseOutcome): string {
  return /^([DM]\d+)-/.exec(outcome.id)?.[1] ?? 'other';
}

function ruleOrder(rule: string): number {
  const m = /^([DM])(\d+)$/.exec(rule);
  if (!m) return 10_000;
  return (m[1] === 'D' ? 0 : 1000) + Number(m[2]);
}

/** A failure's message says "RULE: expected X; got Y": the two halves, for their own columns. */
function expectationAndAnswer(outcome: CaseOutcome): { expected: string; got: string } {
  const m = /^[^:]*: expected (.*?); got (.*)$/s.exec(outcome.message);
  if (outcome.status === 'fail' && m) return { expected: m[1]!, got: m[2]! };
  return { expected: outcome.title, got: outcome.message };
}

/**
 * The run as one self-contained HTML file, for a release manager: the verdict first, then the
 * counts and the credits spent, the drift from a previous record when given, every case grouped by
 * the rule it checks (status, what was expected, what came back), and the observations. No script
 * and no outside asset; every value is escaped, and the file's own Content-Security-Policy lets
 * nothing run. Credentials are already redacted in the report.
 *
 * @example
 * ```ts
 * await writeFile('conformance.html', htmlReport(report, { drift: { file: 'last.json', recordedAt, changes } }));
 * ```
 */
export function htmlReport(report: RunReport, options: HtmlReportOptions = {}): string {
  const s = summarize(report.outcomes);
  const verdict = verdictOf(report);
  const rules = rulesOf(report);
  const groupSections = caseGroupSections(report.outcomes, rules);
  const driftSection = options.drift ? driftSectionOf(options.drift) : '';
  const observationRows = observationRowsOf(report);
  const ruleRows = ruleRowsOf(rules);
  const generated = options.generatedAt?.toISOString() ?? report.startedAt;
  const spent = report.creditsSpent === undefined ? 'unknown' : String(report.creditsSpent);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>BEIA conformance: ${escapeHtml(verdict.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>BEIA conformance report</h1>
  <p class="muted">${escapeHtml(report.target.endpoint)} (${escapeHtml(report.target.kind)}) · ${escapeHtml(generated)} · beia-kit ${escapeHtml(report.kit.version)}</p>
</header>
<main>
<section class="verdict ${verdict.tone}" role="status">
  <h2>${escapeHtml(verdict.title)}</h2>
  <p>${escapeHtml(verdict.text)}</p>
</section>
<section class="tiles" aria-label="Summary">
  <div><span class="n">${s.passed}</span> passed</div>
  <div class="${s.failed ? 'bad' : ''}"><span class="n">${s.failed}</span> failed</div>
  <div class="${s.errored ? 'warn' : ''}"><span class="n">${s.errored}</span> errored</div>
  <div><span class="n">${s.observed}</span> observed</div>
  <div><span class="n">${s.skipped}</span> skipped</div>
  <div><span class="n">${escapeHtml(spent)}</span> credits spent <span class="muted">(plan: at most ${report.plan.maxCredits})</span></div>
</section>
<section>
  <h2>Documented rules</h2>
  <p class="muted">Verified: every case of the rule ran and it held. Not verified: a case did not run; the flag that would run it is named.</p>
  <table><thead><tr><th scope="col">Rule</th><th scope="col">What the page says</th><th scope="col">Verdict</th><th scope="col">Why</th></tr></thead><tbody>${ruleRows}</tbody></table>
</section>
${driftSection}
<section>
  <h2>Cases by rule</h2>
  <p class="muted">D rules are the vendor’s page and are asserted on any target; M rules are the mock’s own choices, asserted against the mock and observed elsewhere; the rest are observed.</p>
  ${groupSections}
</section>
<section>
  <h2>Observations</h2>
  <p class="muted">What the target decided where the page is silent (<code>--record</code> writes them; <code>beia mock --profile</code> reproduces them).</p>
  <table><thead><tr><th scope="col">Observation</th><th scope="col">Value</th><th scope="col">Case</th></tr></thead><tbody>${observationRows}</tbody></table>
</section>
</main>
</body>
</html>
`;
}

/** The cases grouped by the rule they check, D before M, each group a `<details>` open when it holds a failure. */
function caseGroupSections(outcomes: CaseOutcome[], rules: RuleVerdict[]): string {
  const ruleVerdict = new Map(rules.map((rule) => [rule.rule, rule]));
  const groups = new Map<string, CaseOutcome[]>();
  for (const outcome of outcomes) {
    const rule = ruleOf(outcome);
    groups.set(rule, [...(groups.get(rule) ?? []), outcome]);
  }
  const ordered = [...groups.entries()].sort(([a], [b]) => ruleOrder(a) - ruleOrder(b) || a.localeCompare(b));
  return ordered.map(([rule, outcomes]) => caseGroupSection(rule, outcomes, ruleVerdict.get(rule)?.status)).join('\n');
}

function caseGroupSection(rule: string, outcomes: CaseOutcome[], status: RuleVerdict['status'] | undefined): string {
  const failed = outcomes.some((o) => o.status === 'fail' || o.status === 'error');
  const counts = summarize(outcomes);
  const tally = [
    counts.passed && `${counts.passed} passed`,
    counts.failed && `${counts.failed} failed`,
    counts.errored && `${counts.errored} errored`,
    counts.observed && `${counts.observed} observed`,
    counts.skipped && `${counts.skipped} skipped`,
  ]
    .filter(Boolean)
    .join(', ');
  return `<details class="group${failed ? ' has-failure' : ''}"${failed ? ' open' : ''}>
        <summary><span class="rule">${escapeHtml(rule)}</span> ${escapeHtml(RULE_TITLES[rule] ?? 'unknowns: observed, never failed')} ${status ? `<span class="rule-status ${ruleClass(status)}">${escapeHtml(status)}</span> ` : ''}<span class="tally">${escapeHtml(tally)}</span></summary>
        <table>
          <thead><tr><th scope="col">Status</th><th scope="col">Case</th><th scope="col">Expected</th><th scope="col">What came back</th></tr></thead>
          <tbody>${caseRows(outcomes)}</tbody>
        </table>
      </details>`;
}

function caseRows(outcomes: CaseOutcome[]): string {
  return outcomes
    .map((outcome) => {
      const { expected, got } = expectationAndAnswer(outcome);
      return `<tr class="${outcome.status}">
          <td><span class="badge ${outcome.status}">${escapeHtml(STATUS_LABEL[outcome.status])}</span></td>
          <td><code>${escapeHtml(outcome.id)}</code><div class="muted">${escapeHtml(outcome.kind)} · ${escapeHtml(outcome.rule)} · ${outcome.durationMs} ms</div></td>
          <td>${escapeHtml(expected)}</td>
          <td>${escapeHtml(got)}</td>
        </tr>`;
    })
    .join('\n');
}

/** The drift from a previous record: behaviour first (what counts), then timing and coverage (reported, not counted). */
function driftSectionOf({ file, recordedAt, changes }: NonNullable<HtmlReportOptions['drift']>): string {
  const behaviour = changes.filter((d) => d.kind === 'behaviour');
  const timing = changes.filter((d) => d.kind === 'timing');
  const coverage = changes.filter((d) => d.kind === 'coverage');
  return `<section>
      <h2>Since the previous record</h2>
      <p class="muted">Compared with <code>${escapeHtml(file)}</code>, recorded ${escapeHtml(recordedAt)}.</p>
      ${behaviour.length ? `<p class="drift-bad">${behaviour.length} change${behaviour.length === 1 ? '' : 's'} of behaviour:</p>${driftTable(behaviour)}` : '<p class="drift-good">No change of behaviour.</p>'}
      ${timing.length ? `<p class="muted">Timing (reported, not counted as drift): times more than 2x and 100 ms apart, and the counts of a burst the suite could not pace.</p>${driftTable(timing)}` : ''}
      ${coverage.length ? `<p class="muted">Observed in one record only (a case skipped in one run, or new in this version; not counted):</p>${driftTable(coverage)}` : ''}
    </section>`;
}

function driftTable(list: Drift[]): string {
  const shown = (value: unknown) => (value === undefined ? '(not observed)' : JSON.stringify(value));
  const rows = list
    .map(
      (d) =>
        `<tr><td><code>${escapeHtml(d.key)}</code></td><td><code>${escapeHtml(shown(d.before))}</code></td><td><code>${escapeHtml(shown(d.after))}</code></td><td>${escapeHtml(d.case ?? '')}</td></tr>`,
    )
    .join('\n');
  return `<table><thead><tr><th scope="col">Observation</th><th scope="col">Before</th><th scope="col">Now</th><th scope="col">Case</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function observationRowsOf(report: RunReport): string {
  return Object.entries(report.observations)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([key, value]) =>
        `<tr><td><code>${escapeHtml(key)}</code></td><td><code>${escapeHtml(JSON.stringify(value))}</code></td><td>${escapeHtml(report.observedBy?.[key] ?? '')}</td></tr>`,
    )
    .join('\n');
}

function ruleRowsOf(rules: RuleVerdict[]): string {
  return rules
    .map(
      (rule) =>
        `<tr class="${ruleClass(rule.status)}"><td><span class="rule">${escapeHtml(rule.rule)}</span></td><td>${escapeHtml(rule.title)}</td><td><span class="badge ${ruleClass(rule.status)}">${escapeHtml(rule.status)}</span></td><td>${escapeHtml(rule.why ?? '')}</td></tr>`,
    )
    .join('\n');
}

function ruleClass(status: RuleVerdict['status']): string {
  return status === 'verified' ? 'pass' : status === 'failed' ? 'fail' : 'skip';
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;background:#f4f5f7;color:#1d2330;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
header{background:#1d2330;color:#fff;padding:14px 24px}
header h1{margin:0;font-size:19px}
header .muted{color:#aab3c2;margin:2px 0 0}
main{max-width:1200px;margin:0 auto;padding:16px 24px 48px}
section{margin:0 0 22px}
h2{font-size:16px;margin:0 0 8px}
.muted{color:#5d6675}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12.5px;overflow-wrap:anywhere}
.verdict{border-radius:10px;padding:14px 18px;border:1px solid}
.verdict h2{font-size:20px;margin:0 0 4px}
.verdict p{margin:0}
.verdict.good{background:#e3f4ea;border-color:#a8dbbd;color:#10532f}
.verdict.bad{background:#fde7e5;border-color:#f4b4ad;color:#8f1c12}
.verdict.warn{background:#fdf0d8;border-color:#efcf8f;color:#6d4100}
.verdict.partial{background:#eef4e6;border-color:#c4d9a8;color:#3b5318}
summary .rule-status{font-weight:400;font-size:12px;border-radius:10px;padding:1px 8px;margin-left:6px}
summary .rule-status.pass{background:#e3f4ea;color:#177245}
summary .rule-status.fail{background:#fde7e5;color:#b42318}
summary .rule-status.skip{background:#eceef2;color:#5d6675}
.tiles{display:flex;flex-wrap:wrap;gap:10px}
.tiles div{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:8px 14px;min-width:120px}
.tiles .n{display:block;font-size:22px;font-weight:700}
.tiles .bad .n{color:#b42318}
.tiles .warn .n{color:#8a5200}
details.group{background:#fff;border:1px solid #dde1e7;border-radius:8px;margin:0 0 8px}
details.group.has-failure{border-color:#f4b4ad}
summary{cursor:pointer;padding:9px 12px;font-weight:600}
summary .rule{display:inline-block;min-width:38px;font-family:ui-monospace,Menlo,Consolas,monospace}
summary .tally{float:right;font-weight:400;color:#5d6675}
table{width:100%;border-collapse:collapse;background:#fff}
th,td{text-align:left;vertical-align:top;padding:6px 10px;border-top:1px solid #e6e9ee}
th{font-size:12px;color:#5d6675}
td:first-child{white-space:nowrap}
.badge{display:inline-block;white-space:nowrap;min-width:62px;text-align:center;border-radius:10px;padding:1px 8px;font-size:12px;font-weight:700}
.badge.pass{background:#e3f4ea;color:#177245}
.badge.fail{background:#fde7e5;color:#b42318}
.badge.error{background:#fdf0d8;color:#8a5200}
.badge.skip{background:#eceef2;color:#5d6675}
.badge.observed{background:#e8effd;color:#2457c5}
tr.fail td{background:#fff7f6}
.drift-bad{color:#8f1c12;font-weight:600}
.drift-good{color:#10532f;font-weight:600}
@media print{details.group{break-inside:avoid}details.group:not([open]) table{display:table}}
`;
