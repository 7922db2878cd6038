/**
 * A URL as messages and reports show it: without a user or password. Anything that is not a URL
 * is returned as it is.
 *
 * @example
 * ```ts
 * redactUrl('https://user:secret@example.com/x'); // 'https://example.com/x'
 * ```
 */
export function redactUrl(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    url.username = '';
    url.password = '';
    return url.toString();
  } catch {
    return endpoint;
  }
}
