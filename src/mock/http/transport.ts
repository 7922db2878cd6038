import { TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Context } from 'hono';
import type { HttpBindings } from '@hono/node-server';

/**
 * A connection the transport faults can break without a socket: what `mockDispatcher()` gives the
 * app, so that a reset or a truncated answer reaches an undici caller as it would from a server.
 */
export interface SimulatedSocket {
  /** The connection is reset before any answer. */
  reset(): void;
  /** The status line and headers with the full Content-Length, half the body, then a reset. */
  truncate(status: number, headers: Record<string, string>, body: Buffer): void;
}

/**
 * Bindings of the app. On `@hono/node-server` these are the Node request and response; under
 * `app.request()` they are absent, and a test may pass `peerAddress` to pose as another client;
 * `mockDispatcher()` passes a {@link SimulatedSocket}.
 */
export type MockBindings = Partial<HttpBindings> & { peerAddress?: string; simulatedSocket?: SimulatedSocket };

/** Any Hono environment whose bindings are the mock's, whatever its variables. */
type WithMockBindings = { Bindings: MockBindings };

/** The socket's peer address: the node binding, a test's `peerAddress`, or loopback in-process. */
export function peerAddress<E extends WithMockBindings>(c: Context<E>): string {
  return c.env?.incoming?.socket?.remoteAddress ?? c.env?.peerAddress ?? '127.0.0.1';
}

/**
 * The request body as a Node stream: the socket's own stream on a real server (busboy reads it
 * directly), or the Web stream of an in-process `app.request()`.
 */
export function requestBody<E extends WithMockBindings>(c: Context<E>): Readable {
  const incoming = c.env?.incoming;
  if (incoming instanceof Readable) return incoming;
  const body = c.req.raw.body;
  if (!body) return Readable.from([]);
  return Readable.fromWeb(body as WebReadableStream<Uint8Array>);
}

/** The raw response, needed by the transport faults; undefined in-process. */
export function rawResponse<E extends WithMockBindings>(c: Context<E>): ServerResponse | undefined {
  const outgoing = c.env?.outgoing;
  return outgoing && 'socket' in outgoing ? outgoing : undefined;
}

/** Resets the TCP connection (the client sees ECONNRESET) without answering; over TLS, the TCP connection under it. */
export function resetConnection(outgoing: ServerResponse): void {
  const socket = outgoing.socket;
  if (!socket || socket.destroyed) return;
  // A TLS socket cannot be reset itself ("this handle type cannot be sent"): its TCP socket can.
  const tcp = socket instanceof TLSSocket ? (socket as TLSSocket & { _parent?: Socket | null })._parent : socket;
  if (tcp && !tcp.destroyed && typeof tcp.resetAndDestroy === 'function') {
    tcp.resetAndDestroy();
    if (tcp !== socket) socket.destroy();
  } else socket.destroy();
}

/** Sends the status line, the headers with the full Content-Length, half the body, then resets. */
export function sendTruncated(outgoing: ServerResponse, status: number, headers: Record<string, string>, body: Buffer): void {
  outgoing.writeHead(status, { ...headers, 'Content-Length': String(body.length) });
  outgoing.write(body.subarray(0, Math.floor(body.length / 2)), () => {
    setTimeout(() => resetConnection(outgoing), 20);
  });
}

/**
 * Sends a whole answer from pieces, without joining them: corked, so the status line, the
 * headers and every piece leave in one `writev`, and `end()` uncorks.
 */
export function sendChunks(outgoing: ServerResponse, status: number, headers: Record<string, string>, chunks: readonly Uint8Array[], length: number): void {
  outgoing.cork();
  outgoing.writeHead(status, { ...headers, 'Content-Length': String(length) });
  for (const chunk of chunks) outgoing.write(chunk);
  outgoing.end();
}
