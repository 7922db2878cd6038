/**
 * Names on the wire, as printed on the vendor's API page (`shared/beia-api-doc.txt`).
 * Mock, client and conformance suite all spell them from here, so they cannot drift.
 *
 * @example
 * ```ts
 * import { IMAGE_PATH, FIELD, HEADER } from 'beia-kit/contract';
 * form.append(FIELD.licenseId, '1234');
 * ```
 */

/** The live endpoint, from section 2 of the vendor page. */
export const LIVE_ENDPOINT = 'https://aws.beiatechnology.com/beia-api/v1/image';

/** Path of the only documented route (D1). */
export const IMAGE_PATH = '/beia-api/v1/image';

/** Form fields of the multipart/form-data request (D2). */
export const FIELD = {
  licenseId: 'licenseId',
  apiKey: 'apiKey',
  image: 'image',
  includeCroppedImage: 'includeCroppedImage',
} as const;

/** Every field the vendor page names, in the order it lists them. */
export const KNOWN_FIELDS: readonly string[] = Object.values(FIELD);

/** Headers the contract names (D3, D6, D7), plus the mock's own. Lower-case, as Node delivers them. */
export const HEADER = {
  licenseId: 'license-id',
  creditsRemaining: 'credits-remaining',
  retryAfter: 'retry-after',
  contentType: 'content-type',
  /** Sent by the mock on every answer, so a test can tell it is not talking to BEIA. */
  mockVersion: 'x-beia-mock-version',
  /** Per-request override of the mock's answer; see the README. */
  mockScenario: 'x-beia-mock-scenario',
} as const;

/** Part names of the multipart/mixed answer (D5). */
export const PART = {
  result: 'result',
  cropped: 'cropped',
  credits: 'credits',
} as const;

export type PartName = (typeof PART)[keyof typeof PART];
