import type { RequestLogLine } from './record/request-record.js';

export type { RequestLogLine };

export type RequestLogger = (line: RequestLogLine) => void;

/** Text waiting for the next turn of the event loop, per logger; written out at exit too. */
const unwritten = new Set<() => void>();
let flushesAtExit = false;

/**
 * Writes each line as JSON to a stream (stdout by default). API keys never reach a log line.
 * The lines of one turn of the event loop go out in one write (a busy mock would otherwise make
 * a system call per request), at the latest when the process exits.
 */
export function jsonLogger(stream: NodeJS.WritableStream = process.stdout): RequestLogger {
  return batchedLogger(stream, (line) => JSON.stringify(line));
}

/**
 * Writes each line for a person at a terminal: the time, the status, the method and path, the
 * license, the credits left, the duration, the client, then what stands out (error code, fault,
 * scenario, cache hit, retry too early). The same facts as {@link jsonLogger}, in one short line.
 * Colours (the status by class, what stands out) only with `color`.
 *
 * @example
 * ```ts
 * prettyLogger(process.stdout, { color: process.stdout.isTTY && !process.env.NO_COLOR });
 * // 06:29:20 200 POST /beia-api/v1/image  license 1234  credits 99  47 ms  127.0.0.1
 * ```
 */
export function prettyLogger(stream: NodeJS.WritableStream = process.stdout, options: { color?: boolean } = {}): RequestLogger {
  const paint = options.color ? (code: number, text: string) => `\u001b[${code}m${text}\u001b[0m` : (_code: number, text: string) => text;
  return batchedLogger(stream, (line) => {
    const status = paint(line.status >= 500 || line.status === 444 ? 31 : line.status >= 400 ? 33 : 32, String(line.status));
    const words = [line.time.slice(11, 19), status, line.method, line.path];
    const facts: string[] = [];
    if (line.licenseId !== undefined) facts.push(`license ${line.licenseId}`);
    if (line.creditsRemaining !== undefined) facts.push(`credits ${line.creditsRemaining}`);
    facts.push(`${line.durationMs} ms`);
    if (line.remoteAddress !== undefined) facts.push(line.remoteAddress);
    const marks: string[] = [];
    if (line.code !== undefined) marks.push(line.code);
    if (line.error !== undefined) marks.push(line.error);
    if (line.scenario !== undefined) marks.push(`scenario ${line.scenario}`);
    if (line.fault !== undefined) marks.push(`fault ${line.fault}`);
    if (line.charged) marks.push('charged');
    if (line.answerLost) marks.push('answer lost');
    if (line.cacheHit) marks.push('cache hit');
    if (line.replayed) marks.push('replayed');
    if (line.recorded) marks.push('recorded');
    if (line.retryTooEarly) marks.push(`retry ${line.earlyByMs ?? 0} ms too early`);
    const tail = marks.length > 0 ? `  ${paint(line.level === 'info' ? 2 : 33, marks.join(', '))}` : '';
    return `${words.join(' ')}  ${facts.join('  ')}${tail}`;
  });
}

/** The lines of one turn of the event loop in one write, each formatted by `format`. */
function batchedLogger(stream: NodeJS.WritableStream, format: (line: RequestLogLine) => string): RequestLogger {
  let pending = '';
  const flush = () => {
    unwritten.delete(flush);
    if (pending === '') return;
    const text = pending;
    pending = '';
    stream.write(text);
  };
  if (!flushesAtExit) {
    flushesAtExit = true;
    process.on('exit', () => {
      for (const write of [...unwritten]) write();
    });
  }
  return (line) => {
    pending += `${format(line)}\n`;
    if (pending.length >= 64 * 1024) flush();
    else if (!unwritten.has(flush)) {
      unwritten.add(flush);
      setImmediate(flush);
    }
  };
}

/** Drops every line: the default for tests and for the library. */
export const silentLogger: RequestLogger = () => {};
