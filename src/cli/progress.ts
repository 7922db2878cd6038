import { BeiaError } from '../contract/index.js';

export interface ProgressCounts {
  total: number;
  done: number;
  skipped: number;
  failed: number;
  inFlight: number;
  creditsRemaining: number | undefined;
}

/** How `beia process` tells what happens: a bar on a terminal, plain lines elsewhere. */
export interface ProgressView {
  line(text: string): void;
  update(counts: ProgressCounts): void;
  finish(): void;
}

/**
 * A one-line bar redrawn on a terminal (done, failed, credits left, rate, time left); events are
 * printed above it. Rate and time left are measured from the first finished image.
 */
export function terminalProgress(stream: NodeJS.WriteStream, now: () => number = Date.now): ProgressView {
  const started = now();
  let last: ProgressCounts | undefined;
  let shown = false;
  const clear = () => {
    if (shown) stream.write('\r\u001b[2K');
    shown = false;
  };
  const draw = () => {
    if (!last) return;
    const { total, done, skipped, failed, inFlight, creditsRemaining } = last;
    const finished = done + skipped + failed;
    const width = 24;
    const filled = total === 0 ? width : Math.round((finished / total) * width);
    const seconds = (now() - started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const left = rate > 0 ? Math.ceil((total - finished) / rate) : undefined;
    const parts = [
      `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${finished}/${total}`,
      `done ${done}`,
      skipped ? `skipped ${skipped}` : '',
      `failed ${failed}`,
      inFlight ? `in flight ${inFlight}` : '',
      creditsRemaining === undefined ? '' : `credits ${creditsRemaining}`,
      rate > 0 ? `${rate.toFixed(1)}/s` : '',
      left === undefined ? '' : `~${left}s left`,
    ].filter(Boolean);
    const text = parts.join('  ');
    stream.write(`\r\u001b[2K${text.slice(0, Math.max(20, (stream.columns ?? 100) - 1))}`);
    shown = true;
  };
  return {
    line(text) {
      clear();
      stream.write(`${text}\n`);
      draw();
    },
    update(counts) {
      last = counts;
      draw();
    },
    finish() {
      clear();
    },
  };
}

/** Plain lines, one per event, for logs and pipes. */
export function plainProgress(stream: NodeJS.WritableStream): ProgressView {
  return {
    line: (text) => void stream.write(`${text}\n`),
    update: () => {},
    finish: () => {},
  };
}

/** A short reason for a failure: the error's code and message, for the line and the summary. */
export function failureReason(error: unknown): { code: string; message: string } {
  if (error instanceof BeiaError) return { code: error.code, message: error.message };
  const code = (error as { code?: unknown })?.code;
  return { code: typeof code === 'string' ? code.toLowerCase() : 'error', message: error instanceof Error ? error.message : String(error) };
}
