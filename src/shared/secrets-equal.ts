import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares two secrets in time that does not depend on where they differ, nor on their lengths
 * (both are hashed first): an API key, an admin token.
 *
 * @example
 * ```ts
 * secretsEqual(given, license.apiKey); // true or false, in the same time either way
 * ```
 */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
