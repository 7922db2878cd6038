import { Readable } from 'node:stream';
import { Dispatcher, FormData as UndiciFormData, Response as UndiciResponse, errors } from 'undici';
import { MockAdminClient } from './admin/admin-client.js';
import { createMockApp, type MockApp, type MockAppOptions } from './app.js';
import type { MockBindings, SimulatedSocket } from './http/transport.js';
import { untilAborted } from './pipeline/abort.js';

export interface MockDispatcherOptions extends Omit<MockAppOptions, 'shutdown'> {
  /** The address the requests seem to come from (the allowlists check it); 127.0.0.1 when absent. */
  peerAddress?: string;
}

/** The origin `MockDispatcher.admin` and `MockDispatcher.endpoint` use; any origin reaches the same mock. */
const ORIGIN = 'http://beia-mock.invalid';

type Controller = Dispatcher.DispatchController;
type Handler = Dispatcher.DispatchHandler;

/**
 * The mock as an undici `Dispatcher`: every request made with it is answered by the Hono app in
 * this process, with no socket and no port. It keeps the whole contract (checks, credits, images,
 * the journal, faults): `new BeiaClient({ endpoint: dispatcher.endpoint, ..., dispatcher })`, or
 * `undici.request(url, { dispatcher })` and `fetch(url, { dispatcher })` with any URL. Faults that
 * break the connection (reset, truncate, hang) reach the caller as undici's own `SocketError`.
 * What needs a real socket is in the README ("Testing your client").
 *
 * @example
 * ```ts
 * const mock = mockDispatcher();
 * const client = new BeiaClient({ endpoint: mock.endpoint, licenseId: '1234', apiKey: '5678', dispatcher: mock });
 * await client.process('photo.jpg');
 * await mock.admin.verify({ licenseId: '1234', status: 200 }, { exactly: 1 });
 * await mock.close();
 * ```
 */
export class MockDispatcher extends Dispatcher {
  readonly mock: MockApp;
  /** The admin API, answered in-process too. */
  readonly admin: MockAdminClient;
  /** An image endpoint to give a client (the host is never resolved). */
  readonly endpoint = `${ORIGIN}/beia-api/v1/image`;
  readonly #peerAddress: string;
  readonly #shutdown = new AbortController();
  readonly #running = new Set<Promise<void>>();
  readonly #active = new Set<ActiveRequest>();
  readonly #ownsStore: boolean;
  #closed = false;
  #storeClosed = false;

  constructor(options: MockDispatcherOptions = {}) {
    super();
    const { peerAddress, ...appOptions } = options;
    this.mock = createMockApp({ ...appOptions, shutdown: this.#shutdown.signal });
    this.#ownsStore = options.store === undefined;
    this.#peerAddress = peerAddress ?? '127.0.0.1';
    this.admin = new MockAdminClient(ORIGIN, { dispatcher: this, ...(options.adminToken ? { token: options.adminToken } : {}) });
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Handler): boolean {
    return this.#dispatchFrom(options, handler, this.#peerAddress);
  }

  /**
   * The same mock, reached from another client address: what the allowlist checks (403) see.
   *
   * @example
   * ```ts
   * await request(mock.endpoint, { method: 'POST', body: form, dispatcher: mock.from('203.0.113.9') }); // a 403
   * ```
   */
  from(peerAddress: string): Dispatcher {
    return new PeerView((options, handler) => this.#dispatchFrom(options, handler, peerAddress));
  }

  #dispatchFrom(options: Dispatcher.DispatchOptions, handler: Handler, peerAddress: string): boolean {
    if (this.#closed) throw new errors.ClientClosedError();
    // #answer never rejects (every failure goes to the caller's handler); the catch keeps that true.
    const run = this.#answer(options, handler, peerAddress)
      .catch(() => {})
      .finally(() => this.#running.delete(run));
    this.#running.add(run);
    return true;
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    return promiseOrCallback(this.#close(false), callback);
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(errOrCallback?: Error | null | (() => void), callback?: () => void): Promise<void> | void {
    return promiseOrCallback(this.#close(true), typeof errOrCallback === 'function' ? errOrCallback : callback);
  }

  /**
   * `close()`: no new request; hanging faults end; a request the app is still answering finishes,
   * one waiting for its caller (a body being read, an answer not consumed) is failed with
   * `ClientClosedError`. `destroy()`: every request in flight fails at once.
   */
  async #close(destroy: boolean): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      // Hanging faults end at once, as they do when a server shuts down.
      this.#shutdown.abort();
    }
    for (const request of this.#active) {
      if (destroy) request.abort(new errors.ClientDestroyedError());
      else if (request.stage !== 'app') request.abort(new errors.ClientClosedError());
    }
    await Promise.allSettled([...this.#running]);
    if (this.#ownsStore && !this.#storeClosed) {
      this.#storeClosed = true;
      await this.mock.store.close?.();
    }
  }

  async #answer(options: Dispatcher.DispatchOptions, raw: Handler, peerAddress: string): Promise<void> {
    const aborter = new AbortController();
    let finished = false;
    const handler = asEvents(raw, aborter.signal);
    const fail = (error: Error) => {
      if (finished) return;
      finished = true;
      try {
        handler.error(error);
      } catch {
        // A handler that throws from its own error callback has nothing left to tell.
      }
    };
    const active: ActiveRequest = {
      stage: 'reading',
      abort: (reason) => {
        if (!aborter.signal.aborted) aborter.abort(reason);
        fail(reason);
      },
    };
    this.#active.add(active);
    try {
      handler.start((reason) => active.abort(reason ?? new errors.RequestAbortedError()));
      if (finished) return;

      let request: Request;
      try {
        // The body is read whole; a caller that aborts (or a close) stops the wait even if its stream
        // never ends (the caller has its error already: the rejection here changes nothing).
        request = await untilAborted(toRequest(options, aborter.signal), aborter.signal);
      } catch (error) {
        // The caller's body failed while it was read (a file that changed, a stream that broke), or the caller left.
        fail(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      if (finished) return;

      let broken = false;
      const socket: SimulatedSocket = {
        reset: () => {
          broken = true;
          fail(new errors.SocketError('other side closed'));
        },
        truncate: (status, headers, body) => {
          broken = true;
          if (finished) return;
          active.stage = 'responding';
          void (async () => {
            try {
              await handler.headers(status, { ...headers, 'content-length': String(body.length) });
              if (!finished) await handler.data(body.subarray(0, Math.floor(body.length / 2)));
            } finally {
              fail(new errors.SocketError('other side closed'));
            }
          })().catch(() => {});
        },
      };
      const env: MockBindings = { peerAddress, simulatedSocket: socket };
      active.stage = 'app';
      const response = await this.mock.app.fetch(request, env);
      if (broken || finished) return;
      active.stage = 'responding';
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => (headers[name] = value));
      const bytes = new Uint8Array(await response.arrayBuffer());
      if (headers['content-length'] === undefined) headers['content-length'] = String(bytes.length);
      await handler.headers(response.status, headers);
      if (finished) return;
      if (bytes.length > 0) await handler.data(bytes);
      if (finished) return;
      finished = true;
      handler.end();
    } catch (error) {
      // The app failed, or one of the caller's callbacks threw: the caller gets the error, never a hang.
      fail(error instanceof Error ? error : new Error(String(error)));
    } finally {
      this.#active.delete(active);
    }
  }
}

/** A request in flight, for `close()` and `destroy()`: where it is, and how to end it. */
interface ActiveRequest {
  stage: 'reading' | 'app' | 'responding';
  abort: (reason: Error) => void;
}

/** A {@link MockDispatcher} seen from another address; closing it leaves the mock open. */
class PeerView extends Dispatcher {
  readonly #dispatch: (options: Dispatcher.DispatchOptions, handler: Handler) => boolean;

  constructor(dispatch: (options: Dispatcher.DispatchOptions, handler: Handler) => boolean) {
    super();
    this.#dispatch = dispatch;
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Handler): boolean {
    return this.#dispatch(options, handler);
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    return promiseOrCallback(Promise.resolve(), callback);
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(errOrCallback?: Error | null | (() => void), callback?: () => void): Promise<void> | void {
    return promiseOrCallback(Promise.resolve(), typeof errOrCallback === 'function' ? errOrCallback : callback);
  }
}

/** undici's two styles of `close`/`destroy`: the promise when no callback is given, else the callback once done. */
function promiseOrCallback(done: Promise<void>, callback: (() => void) | undefined): Promise<void> | void {
  if (!callback) return done;
  void done.then(callback, callback);
}

/** The mock as an undici `Dispatcher`, in-process (see {@link MockDispatcher}). */
export function mockDispatcher(options: MockDispatcherOptions = {}): MockDispatcher {
  return new MockDispatcher(options);
}

/**
 * One shape for both of undici's handler interfaces (the `onRequestStart` family, and the older
 * `onConnect` family that `undici.request` and `fetch` still use); `headers` and `data` resolve
 * once the caller wants more (back-pressure).
 */
function asEvents(handler: Handler, signal: AbortSignal) {
  let resume: (() => void) | undefined;
  let paused = false;
  let abort: (reason?: Error) => void = () => {};
  const waitIfPaused = () =>
    paused
      ? new Promise<void>((resolve) => {
          resume = resolve;
        })
      : Promise.resolve();
  const unpause = () => {
    paused = false;
    const go = resume;
    resume = undefined;
    go?.();
  };
  const controller: Controller = {
    abort: (reason: Error) => abort(reason),
    pause: () => {
      paused = true;
    },
    resume: unpause,
    get paused() {
      return paused;
    },
    get aborted() {
      return signal.aborted;
    },
    get reason() {
      return signal.aborted ? (signal.reason as Error) : null;
    },
  };
  const modern = typeof handler.onRequestStart === 'function';
  const rawHeaders = (headers: Record<string, string>) => Object.entries(headers).flatMap(([name, value]) => [Buffer.from(name), Buffer.from(value)]);

  return {
    start(onAbort: (reason?: Error) => void): void {
      abort = onAbort;
      if (modern) handler.onRequestStart?.(controller, {});
      else handler.onConnect?.((reason?: Error) => onAbort(reason));
    },
    headers(status: number, headers: Record<string, string>): Promise<void> {
      if (modern) handler.onResponseStart?.(controller, status, headers, '');
      else {
        handler.onResponseStarted?.();
        if (handler.onHeaders?.(status, rawHeaders(headers), unpause, '') === false) paused = true;
      }
      return waitIfPaused();
    },
    data(chunk: Uint8Array): Promise<void> {
      const buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      if (modern) handler.onResponseData?.(controller, buffer);
      else if (handler.onData?.(buffer) === false) paused = true;
      return waitIfPaused();
    },
    end(): void {
      if (modern) handler.onResponseEnd?.(controller, {});
      else handler.onComplete?.([]);
    },
    error(error: Error): void {
      unpause();
      if (modern) handler.onResponseError?.(controller, error);
      else handler.onError?.(error);
    },
  };
}

/** The dispatch options as a Fetch `Request` for the Hono app, with its body read whole, as a server would have received it. */
async function toRequest(options: Dispatcher.DispatchOptions, signal: AbortSignal): Promise<Request> {
  const headers = new Headers();
  const add = (name: string, value: unknown) => {
    if (value === undefined || value === null) return;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, String(one));
  };
  const given = options.headers as unknown;
  if (Array.isArray(given)) {
    if (given.length > 0 && Array.isArray(given[0])) for (const [name, value] of given as [string, unknown][]) add(name, value);
    else for (let i = 0; i + 1 < given.length; i += 2) add(String(given[i]), given[i + 1]);
  } else if (given && typeof given === 'object') {
    const entries = Symbol.iterator in given ? [...(given as Iterable<[string, unknown]>)] : Object.entries(given);
    for (const [name, value] of entries) add(name, value);
  }
  const { bytes, contentType } = await readBody(options.body);
  if (contentType && !headers.has('content-type')) headers.set('content-type', contentType);
  if (bytes && !headers.has('content-length') && !headers.has('transfer-encoding')) headers.set('content-length', String(bytes.length));
  const origin = typeof options.origin === 'string' ? options.origin : (options.origin?.toString() ?? ORIGIN);
  if (!headers.has('host')) headers.set('host', new URL(origin).host);
  const method = options.method.toUpperCase();
  const init: RequestInit = { method, headers, signal };
  if (bytes && method !== 'GET' && method !== 'HEAD') init.body = bytes as Uint8Array<ArrayBuffer>;
  return new Request(new URL(options.path, origin), init);
}

async function readBody(body: unknown): Promise<{ bytes?: Uint8Array; contentType?: string }> {
  if (body === undefined || body === null) return {};
  if (typeof body === 'string') return { bytes: Buffer.from(body) };
  if (body instanceof Uint8Array) return { bytes: body };
  if (isFormData(body)) {
    // Serialised as undici would send it, with its boundary in the Content-Type; Node's own
    // FormData (which undici.request cannot send on a socket) by Node's own Response.
    const serialised =
      body instanceof UndiciFormData ? new UndiciResponse(body as ConstructorParameters<typeof UndiciResponse>[0]) : new Response(body as FormData);
    return { bytes: new Uint8Array(await serialised.arrayBuffer()), contentType: serialised.headers.get('content-type') ?? undefined };
  }
  if (body instanceof Blob) return { bytes: new Uint8Array(await body.arrayBuffer()), ...(body.type ? { contentType: body.type } : {}) };
  if (body instanceof Readable || (typeof body === 'object' && Symbol.asyncIterator in body) || (typeof body === 'object' && Symbol.iterator in body)) {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<unknown>) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array));
    return { bytes: Buffer.concat(chunks) };
  }
  throw new errors.InvalidArgumentError('body must be a string, a Buffer, a Uint8Array, a Blob, FormData, a stream or an iterable of chunks');
}

function isFormData(body: unknown): boolean {
  return typeof body === 'object' && body !== null && (body as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] === 'FormData';
}
