/** One line per request, as the mock logs it (JSON on stdout from `beia mock`). */
export interface RequestLogLine {
  time: string;
  level: 'info' | 'warn' | 'error';
  msg: 'request';
  method: string;
  path: string;
  status: number;
  durationMs: number;
  remoteAddress?: string;
  licenseId?: string;
  code?: string;
  /** Node's HTTP parser error the mock answered (`HPE_INVALID_METHOD`, `HPE_HEADER_OVERFLOW`, `ERR_HTTP_REQUEST_TIMEOUT`, ...). */
  error?: string;
  scenario?: string;
  fault?: string;
  creditsRemaining?: number;
  /** A `phase: "after"` fault spent the credit, then lost the answer. */
  charged?: true;
  answerLost?: true;
  /** This client came back before the Retry-After of its last 429 (README, "Retry discipline"). */
  retryTooEarly?: true;
  earlyByMs?: number;
  /** The images came from the result cache. */
  cacheHit?: boolean;
}

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
    pending += `${JSON.stringify(line)}\n`;
    if (pending.length >= 64 * 1024) flush();
    else if (!unwritten.has(flush)) {
      unwritten.add(flush);
      setImmediate(flush);
    }
  };
}

/** Drops every line: the default for tests and for the library. */
export const silentLogger: RequestLogger = () => {};
