import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { IMAGE_PATH } from '../contract/index.js';
import { createMockApp, type MockApp, type MockAppOptions } from './app.js';
import { answerClientErrors } from './http/client-error.js';
import { defaultAllowedIps, validateConfig, type MockConfig } from './config/index.js';
import { isLoopbackHost, urlHost } from './net/ip.js';
import type { MockStore } from './store/index.js';
import { MOCK_VERSION } from './version.js';

export { isLoopbackHost };
export { LISTENING_LINE, listeningLine } from './listening-line.js';

export interface MockServerOptions extends Omit<MockAppOptions, 'shutdown'> {
  /**
   * Address to listen on; loopback by default. Beyond loopback the admin API needs a token (one
   * is made when `adminToken` is absent), and the embedded default license, when no `config` is
   * given, also accepts private-range addresses (`LOCAL_NETWORK_IPS`).
   */
  host?: string;
  /** Port to listen on; 0 picks a free one. */
  port?: number;
  /** How long `close()` waits for requests in flight before it drops them. */
  shutdownGraceMs?: number;
  /**
   * Serve HTTPS with this key and certificate (PEM) instead of plain HTTP; every route and fault
   * works the same. {@link localCertificate} makes a pair signed by a CA of the mock's own.
   */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

export interface RunningMockServer {
  /** The image endpoint, e.g. `http://127.0.0.1:8080/beia-api/v1/image`. */
  endpoint: string;
  /**
   * The server's base URL, e.g. `http://127.0.0.1:8080`. For a server on every address
   * (`0.0.0.0`, `::`) it names loopback, which reaches it from this machine.
   */
  url: string;
  /** The address it listens on, as given. */
  host: string;
  /** The token the admin API requires; undefined when it is open (loopback without a token). */
  adminToken: string | undefined;
  /** True when the mock made `adminToken` itself because none was given beyond loopback. */
  adminTokenGenerated: boolean;
  port: number;
  config: MockConfig;
  store: MockStore;
  server: Server;
  /** Stops taking requests, lets those in flight finish (up to the grace time), closes the store (a file store writes and unlocks), then resolves. */
  close(): Promise<void>;
}

/**
 * Starts the mock on a port. This is the only function that listens. The admin API can change
 * every license, so it is never open beyond loopback: without `adminToken` there, the mock makes
 * a random token (in `adminToken` of the result) the way Jupyter does.
 *
 * @example
 * ```ts
 * const mock = await startMockServer({ port: 0 });
 * // ... call mock.endpoint ...
 * await mock.close();
 * ```
 */
export async function startMockServer(options: MockServerOptions = {}): Promise<RunningMockServer> {
  const host = options.host ?? '127.0.0.1';
  const allowedIps = defaultAllowedIps(host);
  const config = options.config ?? validateConfig({}, { defaultAllowedIps: allowedIps });
  const adminTokenGenerated = !isLoopbackHost(host) && !options.adminToken;
  const adminToken = adminTokenGenerated ? randomBytes(18).toString('base64url') : options.adminToken;
  const shutdown = new AbortController();
  const { app, store, recordTransportError, imageHandler } = createMockApp({
    defaultAllowedIps: allowedIps,
    ...options,
    config,
    shutdown: shutdown.signal,
    ...(adminToken ? { adminToken } : {}),
  });

  const server = createServer(options, config, { app, imageHandler, recordTransportError });
  await listen(server, host, options.port ?? 8080);
  const { port } = server.address() as AddressInfo;
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const url = `${options.tls ? 'https' : 'http'}://${urlHost(reachable)}:${port}`;
  const close = closer(server, store, shutdown, options.shutdownGraceMs ?? 10_000);

  return { endpoint: `${url}${IMAGE_PATH}`, url, host, port, config, store, server, adminToken, adminTokenGenerated, close };
}

/**
 * The HTTP(S) server: Node's timeouts as the backstop of the form parser's own 408; the image
 * route, the hot one, on Node's own request and response, every other route through Hono; and
 * the mock's own answer, log line and journal entry for what Node's HTTP parser refuses (a
 * malformed request line, headers too large or too slow, a bad chunk), not Node's bare one.
 */
function createServer(options: MockServerOptions, config: MockConfig, mock: Pick<MockApp, 'app' | 'imageHandler' | 'recordTransportError'>): Server {
  const requestTimeout = config.limits.requestTimeoutMs + 2_000;
  const headersTimeout = Math.min(requestTimeout, 60_000);
  const serverOptions = {
    requestTimeout,
    headersTimeout,
    // Node checks the two timeouts above only this often; keep it below them.
    connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(requestTimeout / 4))),
  };
  const honoListener = getRequestListener(mock.app.fetch, { hostname: options.host ?? '127.0.0.1' });
  const imageHandler = mock.imageHandler;
  const listener = imageHandler
    ? (req: IncomingMessage, res: ServerResponse) => {
        if (req.method === 'POST' && isImagePath(req.url)) imageHandler(req, res);
        else void honoListener(req, res);
      }
    : (req: IncomingMessage, res: ServerResponse) => void honoListener(req, res);
  const server = options.tls ? createHttpsServer({ ...serverOptions, ...options.tls }, listener) : createHttpServer(serverOptions, listener);
  answerClientErrors(server, {
    version: MOCK_VERSION,
    errorBody: config.rules.errorBody,
    headersTimeoutMs: headersTimeout,
    requestTimeoutMs: requestTimeout,
    record: mock.recordTransportError,
  });
  return server;
}

/** Listens, or fails with what to do about it. */
function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const hint =
        error.code === 'EADDRINUSE'
          ? ' Another process uses that port: pick another with --port, or 0 for any free port.'
          : error.code === 'EADDRNOTAVAIL'
            ? ` No network interface of this machine has the address ${host}: use 127.0.0.1 (this machine only), 0.0.0.0 (every address; in a container), or one that "ip addr" lists.`
            : error.code === 'EACCES'
              ? ' Ports below 1024 need privileges: pick 1024 or above (8080 is the default).'
              : '';
      reject(new Error(`Failed to listen on ${urlHost(host)}:${port}: ${error.message}.${hint}`));
    });
    server.listen(port, host, () => resolve());
  });
}

/**
 * The server's `close()`: licenses made for one test are swept every 30 s until then (they go
 * away when they expire even if nobody asks for them again, with their journal entries); at
 * close, hanging faults end, requests in flight get the grace time, and the store goes last.
 */
function closer(server: Server, store: MockStore, shutdown: AbortController, graceMs: number): () => Promise<void> {
  const sweep = setInterval(() => {
    store.deleteExpired().catch((error: unknown) => console.error('beia mock: failed to remove expired licenses:', error));
  }, 30_000);
  sweep.unref();
  let closing: Promise<void> | undefined;
  return () => {
    closing ??= new Promise<void>((resolve) => {
      clearInterval(sweep);
      shutdown.abort();
      const grace = setTimeout(() => server.closeAllConnections(), graceMs);
      server.close(() => {
        clearTimeout(grace);
        // The store goes last: requests that finished during the grace have written to it.
        void Promise.resolve(store.close?.())
          .catch((error: unknown) => console.error(`beia mock: failed to close the store: ${(error as Error).message}`))
          .then(() => resolve());
      });
      server.closeIdleConnections();
    });
    return closing;
  };
}

/** The image path, with or without a query (which the route ignores, as Hono's routing does). */
function isImagePath(url: string | undefined): boolean {
  return url === IMAGE_PATH || (url !== undefined && url.startsWith(IMAGE_PATH) && url[IMAGE_PATH.length] === '?');
}
