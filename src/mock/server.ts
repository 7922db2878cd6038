import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { IMAGE_PATH } from '../contract/index.js';
import { createMockApp, type MockAppOptions } from './app.js';
import { DEFAULT_CONFIG, type MockConfig } from './config/index.js';
import { ipMatcher } from './net/ip.js';
import type { MockStore } from './store/index.js';

export interface MockServerOptions extends Omit<MockAppOptions, 'shutdown'> {
  /** Address to listen on; loopback by default. */
  host?: string;
  /** Port to listen on; 0 picks a free one. */
  port?: number;
  /** How long `close()` waits for requests in flight before it drops them. */
  shutdownGraceMs?: number;
}

export interface RunningMockServer {
  /** The image endpoint, e.g. `http://127.0.0.1:8080/beia-api/v1/image`. */
  endpoint: string;
  /** The server's base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  host: string;
  port: number;
  config: MockConfig;
  store: MockStore;
  server: Server;
  /** Stops taking requests, lets those in flight finish (up to the grace time), then resolves. */
  close(): Promise<void>;
}

const LOOPBACK = ipMatcher(['127.0.0.0/8', '::1']);

/** True for a host name or address that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || LOOPBACK.has(host);
}

/**
 * Starts the mock on a port. This is the only function that listens. It refuses to listen
 * beyond loopback without an admin token, since the admin API can change every license.
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
  const config = options.config ?? DEFAULT_CONFIG;
  if (!isLoopbackHost(host) && !options.adminToken) {
    throw new Error(
      `Failed to start the mock on ${host}: the admin API would be open to the network. Pass --admin-token (or BEIA_MOCK_ADMIN_TOKEN), or listen on 127.0.0.1.`,
    );
  }
  const shutdown = new AbortController();
  const { app, store } = createMockApp({ ...options, config, shutdown: shutdown.signal });

  // The form parser answers a slow body with its own 408; Node's timeout is the backstop.
  const requestTimeout = config.limits.requestTimeoutMs + 2_000;
  const server = createAdaptorServer({
    fetch: app.fetch,
    hostname: host,
    serverOptions: {
      requestTimeout,
      headersTimeout: Math.min(requestTimeout, 60_000),
      // Node checks the two timeouts above only this often; keep it below them.
      connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(requestTimeout / 4))),
    },
  }) as Server;

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const hint = error.code === 'EADDRINUSE' ? ' Another process uses that port: pick another with --port, or 0 for any free port.' : '';
      reject(new Error(`Failed to listen on ${host}:${options.port ?? 8080}: ${error.message}.${hint}`));
    });
    server.listen(options.port ?? 8080, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      shutdown.abort();
      const grace = setTimeout(() => server.closeAllConnections(), options.shutdownGraceMs ?? 10_000);
      server.close(() => {
        clearTimeout(grace);
        resolve();
      });
      server.closeIdleConnections();
    });
    return closing;
  };

  return { endpoint: `${url}${IMAGE_PATH}`, url, host, port, config, store, server, close };
}
