/**
 * What the client and the mock agree on, named once: the provider states and the pieces of the
 * request the consumer tests send. The provider test sets each state through the admin API.
 */
export const CONSUMER = 'beia-kit-client';
export const PROVIDER = 'beia-api';

export const STATE = {
  hasCredits: 'license 1234 has credits',
  noCredits: 'license 1234 has no credits left',
  addressNotAllowed: "the client's address is not allowed",
  busy: 'two images are already being processed',
} as const;

export const LICENSE_ID = '1234';
export const API_KEY = '5678';
