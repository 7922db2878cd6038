import { waitOrAbort } from '../pipeline/abort.js';
import { replyBody, type ImageReply } from '../pipeline/process-image.js';
import type { FiredFault } from '../store/index.js';

/** A connection a transport fault can break: a socket's response, or `mockDispatcher()`'s simulated socket. */
export interface BreakableConnection {
  /** The connection is reset before any answer. */
  reset(): void;
  /** The status line and headers with the full Content-Length, half the body, then a reset. */
  truncate(status: number, headers: Record<string, string>, body: Buffer): void;
}

/**
 * How a transport fault acts on the answer it spoils: `reset` resets the connection; `hang` holds
 * it (up to `faults.maxHangMs`, or until the client leaves or the mock shuts down) while the
 * request keeps its slot, then resets it; `truncate` sends the 200's head and half its body, then
 * resets. Returns the status the record shows (444: closed without an answer, nginx's convention;
 * 499: the client left first; 200: a truncated answer) and the break itself, which the route does
 * once the request is on record, so a client that sees it can read its journal entry at once.
 */
export async function actOnConnection(
  outcome: { fault: FiredFault; reply: ImageReply },
  connection: BreakableConnection,
  headers: Record<string, string>,
  options: { maxHangMs: number; client: AbortSignal; shutdown: AbortSignal },
): Promise<{ status: number; breakNow: () => void }> {
  const reset = () => connection.reset();
  switch (outcome.fault.type) {
    case 'hang':
      await waitOrAbort(options.maxHangMs, AbortSignal.any([options.client, options.shutdown])).catch(() => {});
      return { status: options.client.aborted ? 499 : 444, breakNow: reset };
    case 'reset':
      return { status: 444, breakNow: reset };
    case 'truncate':
    case 'error':
    case 'latency': {
      // Only truncate reaches here: error and latency act before the answer.
      return { status: 200, breakNow: () => connection.truncate(200, headers, replyBody(outcome.reply)) };
    }
  }
}
