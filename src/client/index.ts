export { BeiaClient } from './client.js';
export type { BeiaClientOptions, ProcessOptions, ProcessResult, RetryInfo } from './client.js';
export { BeiaNetworkError, BeiaResultError, BeiaTimeoutError, InputChangedError } from './errors.js';
export type { BeiaResultErrorCode, BeiaResultErrorDetails } from './errors.js';
export { DEFAULT_MAX_RESULT_BYTES } from './result-checks.js';
export { EndpointUnreachableError, processBatch } from './batch.js';
export type { BatchItem, BatchEvent, BatchOptions, BatchSummary } from './batch.js';
export { imageSource, sniffImageFormat } from './image-source.js';
export type { ImageInput, ImageSource } from './image-source.js';
export { isRetryable, retryDelayMs, DEFAULT_RETRY_POLICY } from './retry.js';
export type { RetryPolicy } from './retry.js';
// The API errors are the shared catalogue's, re-exported so users need one import.
export {
  BeiaError,
  BeiaApiError,
  BadRequestError,
  InvalidLicenseError,
  NoCreditsError,
  IpNotAllowedError,
  UnsupportedFileError,
  TooManyRequestsError,
  ServerError,
  UnexpectedStatusError,
  UnreadableResponseError,
  LIVE_ENDPOINT,
} from '../contract/index.js';
export { networkDispatcher, proxyFromEnvironment, describeRoute } from './network.js';
export type { NetworkOptions, ProxyChoice } from './network.js';
