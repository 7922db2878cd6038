export { CHECK_NAMES, DEFAULT_CONFIG, DEFAULT_LICENSE, LOCAL_NETWORK_IPS, LOOPBACK_IPS } from './types.js';
export type { CheckName, LicenseConfig, MockConfig } from './types.js';
export { validateConfig, readLicensePatch, defaultAllowedIps } from './validate.js';
export type { ValidateOptions } from './validate.js';
export { loadConfigFile, parseConfigText } from './load.js';
export { ConfigError } from './reader.js';
