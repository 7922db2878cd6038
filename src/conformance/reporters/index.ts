export { consoleLine, consoleReport } from './console.js';
export { jsonReport } from './json.js';
export { htmlReport, escapeHtml, RULE_TITLES } from './html.js';
export type { HtmlReportOptions } from './html.js';
export { junitReport } from './junit.js';
export { summarize } from './summary.js';
export type { Summary } from './summary.js';
