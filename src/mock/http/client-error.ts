import { maxHeaderSize, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { HEADER, IMAGE_PATH, type ErrorCode } from '../../contract/index.js';
import type { MockConfig } from '../config/index.js';
import { ApiError } from './api-error.js';
import { errorBodyOf } from './respond.js';

/** The mock's answer to an error of Node's HTTP parser, written straight to the socket. */
export interface TransportAnswer {
  status: number;
  code: ErrorCode;
  /** Node's error code, e.g. `HPE_HEADER_OVERFLOW`, `ERR_HTTP_REQUEST_TIMEOUT`. */
  error: string;
  /** The headers sent, with lower-case names (as the journal shows headers). */
  headers: Record<string, string>;
}

/** Such an answer given before any request reached the app: what its log line and journal entry say. */
export interface TransportError extends TransportAnswer {
  /** The request line's method and path, when the bytes read began with a whole one. */
  method?: string;
  path?: string;
  /** The socket's peer, as Node gives it. */
  remoteAddress?: string;
  /** From the connection (or the end of its previous answer) to the error. */
  durationMs: number;
}

export interface ClientErrorOptions {
  /** The mock's version, for `X-Beia-Mock-Version`. */
  version: string;
  errorBody: MockConfig['rules']['errorBody'];
  /** The server's `headersTimeout` and `requestTimeout`, named in the 408's message. */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** Logs and journals an answer given before any request reached the app (`MockApp.recordTransportError`). */
  record(error: TransportError): void;
}

/** Requests that reached the app, then were answered here (a bad chunk, a body past `requestTimeout`). */
const answeredRequests = new WeakMap<object, TransportAnswer>();

/**
 * The answer {@link answerClientErrors} gave to this request (the Node `IncomingMessage` of the
 * app's bindings) after it had reached the app, if it gave one: the route that then sees its body
 * fail journals this answer instead of a 499.
 */
export function transportAnswer(incoming: object | undefined): TransportAnswer | undefined {
  return incoming === undefined ? undefined : answeredRequests.get(incoming);
}

/**
 * Answers the errors of Node's HTTP parser (a malformed request line, headers over Node's 16 KiB,
 * headers slower than `headersTimeout`, invalid chunked encoding, a body past `requestTimeout`) as
 * the mock answers: its error body, `X-Beia-Mock-Version`, `Connection: close`, and a log line and
 * a journal entry, instead of Node's bare 400, 431 or 408. Only when the socket is still writable
 * and no answer was started on it; otherwise (and on `ECONNRESET`, or a client that ended the
 * connection mid-request) the socket is destroyed.
 */
export function answerClientErrors(server: Server, options: ClientErrorOptions): void {
  // The answers of each connection's requests that reached the app and are not finished.
  const inFlight = new WeakMap<Socket, Set<ServerResponse>>();
  // When each connection's current request began: at the connection, or when its previous answer ended.
  const since = new WeakMap<Socket, number>();
  const answered = new WeakSet<Socket>();

  server.on('connection', (socket: Socket) => since.set(socket, performance.now()));
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const socket = request.socket;
    let open = inFlight.get(socket);
    if (!open) inFlight.set(socket, (open = new Set()));
    open.add(response);
    response.once('close', () => {
      open.delete(response);
      since.set(socket, performance.now());
    });
  });

  server.on('clientError', (error: NodeJS.ErrnoException & { rawPacket?: Buffer; reason?: string }, socket: Socket) => {
    const open = [...(inFlight.get(socket) ?? [])];
    // Nothing to say: a reset; the client's end of the connection in the middle of a request (it
    // left: a request of the app is a 499); a second error of a connection already answered; an
    // answer already under way, which these bytes would corrupt.
    if (
      error.code === 'ECONNRESET' ||
      error.code === 'HPE_INVALID_EOF_STATE' ||
      !socket.writable ||
      answered.has(socket) ||
      open.some((response) => response.headersSent)
    ) {
      socket.destroy();
      return;
    }
    answered.add(socket);
    const apiError = errorFor(error, open.length > 0, options);
    const body = errorBodyOf(apiError, options.errorBody);
    const text = Buffer.from(body?.text ?? '', 'utf8');
    // Lower-case names, as the mock's other answers have them on the wire (and the journal shows them).
    const headers: Record<string, string> = {
      ...(body ? { 'content-type': body.contentType } : {}),
      'content-length': String(text.length),
      [HEADER.mockVersion]: options.version,
      connection: 'close',
    };
    const head = `HTTP/1.1 ${apiError.status} ${STATUS_CODES[apiError.status] ?? ''}\r\n${Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('')}\r\n`;
    // Out, then closed; a client that does not read it does not keep the socket.
    socket.end(Buffer.concat([Buffer.from(head, 'latin1'), text]), () => socket.destroy());
    setTimeout(() => socket.destroy(), 2_000).unref();

    const answer: TransportAnswer = { status: apiError.status, code: apiError.code, error: error.code ?? 'unknown', headers };
    if (open.length > 0) {
      // The app has this request: its route journals it when its body fails, as this answer.
      for (const response of open) answeredRequests.set(response.req, answer);
      return;
    }
    options.record({
      ...answer,
      ...requestLine(error.rawPacket),
      ...(socket.remoteAddress ? { remoteAddress: socket.remoteAddress } : {}),
      durationMs: performance.now() - (since.get(socket) ?? performance.now()),
    });
  });
}

/** The catalogue error for a parser error; `afterHeaders` when the request had reached the app. */
function errorFor(error: NodeJS.ErrnoException & { reason?: string }, afterHeaders: boolean, options: ClientErrorOptions): ApiError {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return afterHeaders
      ? new ApiError(
          'request_timeout',
          `The request did not arrive whole within ${options.requestTimeoutMs} ms. Send the body faster (limits.requestTimeoutMs sets the time); this connection is closed.`,
        )
      : new ApiError(
          'request_timeout',
          `The request line and headers did not arrive within ${options.headersTimeoutMs} ms. Send them at once, then the body (limits.requestTimeoutMs sets the time); this connection is closed.`,
        );
  }
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    return new ApiError(
      'headers_too_large',
      `The request line and headers are larger than the ${maxHeaderSize} bytes the mock's HTTP parser accepts (Node's --max-http-header-size). Send fewer or shorter headers; large data goes in the body.`,
    );
  }
  const reason = (error.reason ?? error.message.replace(/^Parse Error:?\s*/, '')).replace(/\.$/, '') || 'invalid HTTP';
  return afterHeaders
    ? new ApiError(
        'bad_request',
        `The request body could not be read: ${reason} (${error.code}). Send a body of exactly its Content-Length, or valid chunked encoding (each chunk's size in hex, CRLF, its bytes, CRLF, and a last chunk of size 0); this connection is closed.`,
      )
    : new ApiError(
        'bad_request',
        `The request could not be parsed as HTTP/1.1: ${reason} (${error.code}). Send a request line such as "POST ${IMAGE_PATH} HTTP/1.1", then headers as "Name: value" lines, each ended by CRLF, and an empty line; this connection is closed.`,
      );
}

/** The method and path of the bytes Node's parser refused, when they begin with a whole request line. */
function requestLine(raw: Buffer | undefined): { method?: string; path?: string } {
  const match = raw && /^([A-Z]{1,16}) (\/[^\s?#]*)\S* HTTP\/1\.[01]\r?\n/.exec(raw.subarray(0, 4096).toString('latin1'));
  return match ? { method: match[1]!, path: match[2]!.slice(0, 256) } : {};
}
