/**
 * The parts of the mock that need none of its heavy dependencies (sharp, hono, ioredis,
 * prom-client, busboy): its config and how it is checked, the line it prints when it serves, its
 * version, and the client of its admin API. What `beia-kit/testcontainers` and `beia-kit/conformance`
 * import, so that starting a container or a run against a URL does not load an image library.
 */
export {
  CHECK_NAMES,
  CREDITS_STATUSES,
  DEFAULT_CONFIG,
  DEFAULT_LICENSE,
  defaultAllowedIps,
  loadConfigFile,
  parseConfigText,
  tellsCreditsOn,
  validateConfig,
  ConfigError,
} from './config/index.js';
export type { CheckName, CreditsStatus, LicenseConfig, MockConfig, ValidateOptions } from './config/index.js';
export { LISTENING_LINE, listeningLine } from './listening-line.js';
export { urlHost } from './net/ip.js';
export { MOCK_VERSION } from './version.js';
export { MockAdminClient, MockAdminError, MockVerificationError } from './admin/admin-client.js';
export type { MockAdminClientOptions, AdminLicense, MockHealth, CreateLicenseOptions, CreatedLicense } from './admin/admin-client.js';
export type { CallPattern, CallCount, VerifyResult, NearMiss } from './admin/verify.js';
export type { ArmedFault, FaultSpec, JournalEntry } from './store/index.js';
