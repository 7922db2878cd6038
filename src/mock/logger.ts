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
  scenario?: string;
  fault?: string;
  creditsRemaining?: number;
}

export type RequestLogger = (line: RequestLogLine) => void;

/** Writes each line as JSON to a stream (stdout by default). API keys never reach a log line. */
export function jsonLogger(stream: NodeJS.WritableStream = process.stdout): RequestLogger {
  return (line) => {
    stream.write(`${JSON.stringify(line)}\n`);
  };
}

/** Drops every line: the default for tests and for the library. */
export const silentLogger: RequestLogger = () => {};
