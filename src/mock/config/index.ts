export { CHECK_NAMES, DEFAULT_CONFIG, DEFAULT_LICENSE } from './types.js';
export type { CheckName, LicenseConfig, MockConfig } from './types.js';
export { validateConfig, readLicensePatch } from './validate.js';
export { loadConfigFile } from './load.js';
export { ConfigError } from './reader.js';
