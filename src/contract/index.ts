export { LIVE_ENDPOINT, IMAGE_PATH, FIELD, KNOWN_FIELDS, HEADER, PART } from './protocol.js';
export type { PartName } from './protocol.js';
export { ERROR_CATALOGUE, DOCUMENTED_STATUS_CODES, errorForStatus, isErrorCode } from './error-catalogue.js';
export type { ErrorCode, ErrorBody, DocumentedErrorStatus } from './error-catalogue.js';
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
  errorFromAnswer,
  parseCredits,
  parseRetryAfter,
} from './api-errors.js';
export type { ApiErrorDetails, ErrorAnswer } from './api-errors.js';
export { encodeMultipartMixed, encodeMultipartMixedChunks, safeBoundary } from './multipart-mixed.js';
export type { MixedPart, EncodedMultipart, EncodedMultipartChunks } from './multipart-mixed.js';
export { decodeMultipartMixed, readImageBundle } from './multipart-mixed-reader.js';
export type { ReceivedPart, ImageBundle } from './multipart-mixed-reader.js';
export { openApiDocument } from './openapi.js';
