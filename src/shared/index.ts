export { redactUrl } from './redact-url.js';
export { Semaphore } from './semaphore.js';
export { secretsEqual } from './secrets-equal.js';
export { writeFileAtomic } from './write-file-atomic.js';
