export { CHECK_NAMES, CREDITS_STATUSES, DEFAULT_CONFIG, DEFAULT_LICENSE, IMAGE_FORMATS, LOCAL_NETWORK_IPS, LOOPBACK_IPS, tellsCreditsOn } from './types.js';
export type { CheckName, CreditsStatus, ImageFormat, LicenseConfig, MockConfig } from './types.js';
export { validateConfig, readLicensePatch, defaultAllowedIps } from './validate.js';
export type { ValidateOptions } from './validate.js';
export { loadConfigFile, parseConfigText } from './load.js';
export { ConfigError } from './reader.js';
