// The package's entry loads prom-client (and, through configureSharpForMock, sharp) when it is
// imported, as it always has (test/entry-points.test.ts holds it to that): a library user's first
// image and first scrape pay nothing. `beia mock` starts from serve.ts instead, which loads each
// of them with the first request that needs it.
import 'prom-client';
export { createMockApp } from './app.js';
export type { MockApp, MockAppOptions } from './app.js';
export { startMockServer, isLoopbackHost, listeningLine, LISTENING_LINE } from './server.js';
export { urlHost } from './net/ip.js';
export type { MockServerOptions, RunningMockServer } from './server.js';
export { localCertificate, certificateNames } from './tls/local-ca.js';
export type { TlsFiles } from './tls/local-ca.js';
export {
  CHECK_NAMES,
  DEFAULT_CONFIG,
  DEFAULT_LICENSE,
  LOCAL_NETWORK_IPS,
  LOOPBACK_IPS,
  validateConfig,
  defaultAllowedIps,
  loadConfigFile,
  parseConfigText,
  ConfigError,
  CREDITS_STATUSES,
  tellsCreditsOn,
} from './config/index.js';
export type { CheckName, CreditsStatus, LicenseConfig, MockConfig, ValidateOptions } from './config/index.js';
export { MemoryStore, FileStore, RedisStore, StoreError, FAULT_TYPES } from './store/index.js';
export type {
  MockStore,
  NewLicense,
  LicenseState,
  JournalEntry,
  JournalPart,
  ArmedFault,
  FaultSpec,
  FaultType,
  Admission,
  Ticket,
  Settlement,
  StoreCounters,
} from './store/index.js';
export { jsonLogger, prettyLogger, silentLogger } from './logger.js';
export type { RequestLogger, RequestLogLine } from './logger.js';
export { SCENARIOS } from './faults/index.js';
export { MOCK_VERSION } from './version.js';
export { configureSharpForMock } from './images/render.js';
export { MockAdminClient, MockAdminError, MockVerificationError } from './admin/admin-client.js';
export type { CallPattern, CallCount, VerifyResult, NearMiss } from './admin/verify.js';
export type { MockAdminClientOptions, AdminLicense, MockHealth, CreateLicenseOptions, CreatedLicense } from './admin/admin-client.js';
export { mockDispatcher, MockDispatcher } from './dispatcher.js';
export type { MockDispatcherOptions } from './dispatcher.js';
export { RecordingFolder, recordingKey } from './recordings/folder.js';
export type { RecordingMeta, RecordedImage } from './recordings/folder.js';
export type { RecordOptions } from './record-route.js';
export type { ReplayOptions } from './images/renderer.js';
export { ipEntryProblem } from './net/ip.js';
