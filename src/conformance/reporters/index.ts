export { consoleLine, consoleReport, summaryLine } from './console.js';
export { jsonReport } from './json.js';
export { htmlReport, escapeHtml, RULE_TITLES } from './html.js';
export type { HtmlReportOptions } from './html.js';
export { junitReport } from './junit.js';
export { countsText, rulesOf, suiteName, summarize, verdictOf } from './summary.js';
export type { Summary, Verdict } from './summary.js';
