import { DOCUMENTED_STATUS_CODES, HEADER } from '../../contract/index.js';
import { ApiError } from '../http/api-error.js';

/** The values `X-Beia-Mock-Scenario` accepts: each documented error status (D7). */
export const SCENARIOS = Object.keys(DOCUMENTED_STATUS_CODES);

const MESSAGES: Record<string, string> = {
  '400': 'Forced by X-Beia-Mock-Scenario: 400. Missing or invalid parameters.',
  '401': 'Forced by X-Beia-Mock-Scenario: 401. Invalid license.',
  '402': 'Forced by X-Beia-Mock-Scenario: 402. No credits remaining.',
  '403': 'Forced by X-Beia-Mock-Scenario: 403. This IP is not authorised for the license.',
  '415': 'Forced by X-Beia-Mock-Scenario: 415. Invalid file.',
  '429': 'Forced by X-Beia-Mock-Scenario: 429. Too many images being processed, please try again later.',
  '500': 'Forced by X-Beia-Mock-Scenario: 500. Internal server error.',
};

/**
 * The error a scenario header asks for, decoded and validated before use. An unknown value is
 * itself a 400 that lists the allowed ones. Nothing in the store changes either way.
 *
 * @example
 * ```ts
 * scenarioError('429', 1).status; // 429, with Retry-After: 1
 * ```
 */
export function scenarioError(value: string, retryAfterSeconds: number): ApiError {
  const status = value.trim();
  const code = (DOCUMENTED_STATUS_CODES as Record<string, (typeof DOCUMENTED_STATUS_CODES)[keyof typeof DOCUMENTED_STATUS_CODES] | undefined>)[status];
  if (!code) {
    return new ApiError(
      'invalid_scenario',
      `${HEADER.mockScenario} is "${value.slice(0, 40)}"; allowed values are ${SCENARIOS.join(', ')}. Remove the header for a normal answer.`,
    );
  }
  const headers: Record<string, string> = status === '429' ? { 'Retry-After': String(retryAfterSeconds) } : {};
  return new ApiError(code, MESSAGES[status] ?? `Forced by ${HEADER.mockScenario}: ${status}.`, headers);
}
