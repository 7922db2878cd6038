export { consoleLine, consoleReport } from './console.js';
export { jsonReport } from './json.js';
export { junitReport } from './junit.js';
export { summarize } from './summary.js';
export type { Summary } from './summary.js';
