import { setTimeout as sleep } from 'node:timers/promises';
import { ClientGoneError } from '../http/api-error.js';

/**
 * Resolves as `work` does, or rejects with {@link ClientGoneError} as soon as `signal` aborts,
 * so a request whose client left releases what it holds at once. The work itself goes on and
 * its result is dropped.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(new ClientGoneError('client closed the connection during processing'));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      work.catch(() => {});
      reject(new ClientGoneError('client closed the connection during processing'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the work's own rejection, passed on unchanged
        reject(error);
      },
    );
  });
}

/** Waits `ms`, or rejects with {@link ClientGoneError} when the client goes away first. */
export async function waitOrAbort(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) {
    if (signal.aborted) throw new ClientGoneError('client closed the connection during processing');
    return;
  }
  try {
    await sleep(ms, undefined, { signal });
  } catch {
    throw new ClientGoneError('client closed the connection during processing');
  }
}
