import { urlHost } from './net/ip.js';

/**
 * Matches the first line `beia mock` prints once it serves (see {@link listeningLine}): what
 * container wait strategies and scripts wait for. Groups: version, host, port.
 *
 * @example
 * ```ts
 * LISTENING_LINE.exec('beia mock 0.1.0 listening on 0.0.0.0:8080 (every address)')?.[3]; // '8080'
 * ```
 */
export const LISTENING_LINE = /^beia mock (\S+) listening on (\[[^\]]+\]|[^\s:]+):(\d+)/m;

/** The line `beia mock` prints first once it serves; {@link LISTENING_LINE} matches it. */
export function listeningLine(mock: { host: string; port: number }, version: string): string {
  const everywhere = mock.host === '0.0.0.0' || mock.host === '::';
  return `beia mock ${version} listening on ${urlHost(mock.host)}:${mock.port}${everywhere ? ' (every address)' : ''}`;
}
