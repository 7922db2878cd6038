/**
 * What `beia mock` needs to serve, and nothing that a request may never need: the package's
 * entry (`index.ts`) also loads sharp and prom-client when imported (a library user's first image
 * and first scrape pay nothing), while a mock started from here loads sharp with its first image,
 * prom-client with its first scrape, node-forge only for `--https`, undici only to record, and
 * ioredis only for a Redis store. `src/cli` imports the mock from here and from `index.ts`'s
 * light part (`light.ts`); see ARCHITECTURE.md.
 */
export { startMockServer, listeningLine } from './server.js';
export type { RunningMockServer } from './server.js';
export { defaultAllowedIps, loadConfigFile, parseConfigText, LOOPBACK_IPS } from './config/index.js';
export type { LicenseConfig, MockConfig } from './config/index.js';
export { FileStore, RedisStore } from './store/index.js';
export { jsonLogger, prettyLogger, silentLogger } from './logger.js';
export type { RequestLogger } from './logger.js';
export { MOCK_VERSION } from './version.js';
export { configureSharpWhenLoaded } from './images/renderer.js';
export type { ReplayOptions } from './images/renderer.js';
export { localCertificate, certificateNames } from './tls/local-ca.js';
export type { TlsFiles } from './tls/local-ca.js';
export { ipEntryProblem } from './net/ip.js';
export { RecordingFolder } from './recordings/folder.js';
export type { RecordOptions } from './record-route.js';
