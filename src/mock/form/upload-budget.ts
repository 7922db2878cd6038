import { ApiError } from '../http/api-error.js';

export interface UploadBudgetLimits {
  /** Bytes of uploads held in memory at once, all clients together. */
  maxBufferedBytes: number;
  /** Uploads being received at once, all clients together. */
  maxConcurrentUploads: number;
  /** The most of either bound that one client address may hold, from 0 (excluded) to 1. */
  maxClientShare: number;
  /** `Retry-After` on the 429s, in seconds. */
  retryAfterSeconds: number;
}

/** What one request holds of the budget, from its first body byte until the request ends. */
export interface UploadTicket {
  /** Counts `bytes` more as held; throws a 429 {@link ApiError} when that would pass a bound. */
  add(bytes: number): void;
  /** The body is read (or given up): the upload no longer counts as one being received. */
  received(): void;
  /** The request is over: its bytes are free. Idempotent; implies `received()`. */
  release(): void;
}

interface Holding {
  bytes: number;
  uploads: number;
}

/**
 * Bounds the memory of uploads by the bytes actually received, not by a count of uploads that a
 * trickle could fill, and keeps one client address to its share (`maxClientShare`) of both the
 * bytes and the uploads, so one slow or greedy pipeline cannot starve the others. Per process.
 *
 * @example
 * ```ts
 * const budget = new UploadBudget({ maxBufferedBytes: 256 << 20, maxConcurrentUploads: 256, maxClientShare: 0.5, retryAfterSeconds: 1 });
 * const ticket = budget.open('10.0.0.7'); // throws a 429 ApiError when the client has its share
 * ticket.add(chunk.length);               // as each chunk arrives
 * ticket.release();                       // when the request ends
 * ```
 */
export class UploadBudget {
  readonly #limits: UploadBudgetLimits;
  readonly #total: Holding = { bytes: 0, uploads: 0 };
  readonly #byClient = new Map<string, Holding>();

  constructor(limits: UploadBudgetLimits) {
    this.#limits = limits;
  }

  /** Bytes held and uploads being received now, all clients together. */
  get held(): Readonly<Holding> {
    return { ...this.#total };
  }

  /** The bounds of one client address. */
  get clientBounds(): Readonly<Holding> {
    const share = this.#limits.maxClientShare;
    return {
      bytes: Math.max(1, Math.floor(this.#limits.maxBufferedBytes * share)),
      uploads: Math.max(1, Math.floor(this.#limits.maxConcurrentUploads * share)),
    };
  }

  /** Starts an upload for this client address, or throws the 429 that says which bound is full. */
  open(client: string): UploadTicket {
    const holding = this.#byClient.get(client) ?? { bytes: 0, uploads: 0 };
    if (holding.uploads >= this.clientBounds.uploads) {
      throw this.#busy(
        `${client} is already sending ${holding.uploads} uploads, its share of the mock (limits.maxClientShare of limits.maxConcurrentUploads). Send fewer at once.`,
      );
    }
    if (this.#total.uploads >= this.#limits.maxConcurrentUploads) {
      throw this.#busy(`The mock is already receiving ${this.#total.uploads} uploads, its limit (limits.maxConcurrentUploads).`);
    }
    holding.uploads += 1;
    this.#total.uploads += 1;
    this.#byClient.set(client, holding);

    let bytes = 0;
    let receiving = true;
    let released = false;
    const received = () => {
      if (!receiving) return;
      receiving = false;
      holding.uploads -= 1;
      this.#total.uploads -= 1;
      this.#forgetIfIdle(client, holding);
    };
    return {
      add: (more) => {
        if (released) return;
        // The client's own bound first: when both are passed, that is the one it can act on.
        if (holding.bytes + more > this.clientBounds.bytes) {
          throw this.#busy(
            `${client} holds ${holding.bytes} bytes of uploads, and this one would pass its share of ${this.clientBounds.bytes} (limits.maxClientShare of limits.maxBufferedBytes). Send fewer at once.`,
          );
        }
        if (this.#total.bytes + more > this.#limits.maxBufferedBytes) {
          throw this.#busy(
            `The mock holds ${this.#total.bytes} bytes of uploads, and this one would pass its limit of ${this.#limits.maxBufferedBytes} (limits.maxBufferedBytes).`,
          );
        }
        bytes += more;
        holding.bytes += more;
        this.#total.bytes += more;
      },
      received,
      release: () => {
        if (released) return;
        released = true;
        received();
        holding.bytes -= bytes;
        this.#total.bytes -= bytes;
        this.#forgetIfIdle(client, holding);
      },
    };
  }

  #forgetIfIdle(client: string, holding: Holding): void {
    if (holding.bytes === 0 && holding.uploads === 0) this.#byClient.delete(client);
  }

  #busy(message: string): ApiError {
    const retryAfter = String(this.#limits.retryAfterSeconds);
    return new ApiError('too_many_requests', `${message} Retry after ${retryAfter} s.`, { 'Retry-After': retryAfter, Connection: 'close' });
  }
}
