import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from 'hono';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { HEADER, IMAGE_PATH } from '../contract/index.js';
import type { MockConfig } from './config/index.js';
import type { BreakableConnection } from './faults/index.js';
import type { ImageOutcome, ImagePipeline, ImageRequest } from './pipeline/image-pipeline.js';
import { replyBody, type ImageReply } from './pipeline/process-image.js';
import { beginRecord, type RecordExtras, type RequestRecord } from './record/request-record.js';
import { finishRecord } from './record/keep-record.js';
import { unexpectedFailure } from './http/api-error.js';
import { transportAnswer } from './http/client-error.js';
import { errorAnswer, errorResponse } from './http/respond.js';
import { peerAddress, rawResponse, requestBody, resetConnection, sendChunks, sendTruncated, type MockBindings } from './http/transport.js';

/** What both edges of the image route share. */
export interface ImageEdgeDeps {
  pipeline: ImagePipeline;
  config: MockConfig;
  /** The mock's version, on every answer. */
  version: string;
  /** Aborted at shutdown: answers ask keep-alive clients to go, hanging faults end. */
  shutdown: AbortSignal;
  /** Where a finished record goes (`record/keep-record.ts`). */
  keep: (record: RequestRecord, extras: RecordExtras, retryAfterSeconds?: number) => Promise<void>;
}

/** The Hono environment of the mock: the Node bindings, and the record of the request. */
export type MockEnv = { Bindings: MockBindings; Variables: { record: RequestRecord; extras: RecordExtras } };

/**
 * The image route on Node's own request and response, without Hono: what `startMockServer` calls
 * for `POST /beia-api/v1/image` (the hot route; every other route, and in-process callers, go
 * through the Hono app). The same pipeline, the same record, the same answer.
 */
export function nodeImageHandler(deps: ImageEdgeDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const startedAt = performance.now();
    const record = beginRecord('POST', IMAGE_PATH);
    const extras: RecordExtras = {};
    const controller = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) controller.abort();
      // A body the answer did not need (refused before it was read, or cut short): read and dropped, within bounds.
      if (!req.readableEnded) setImmediate(() => drainBody(req));
    });
    const request: ImageRequest = {
      peerAddress: req.socket.remoteAddress ?? '127.0.0.1',
      header: (name) => headerValue(req.headers[name]),
      body: () => req,
      signal: controller.signal,
      connection: nodeConnection(res),
    };
    void deps.pipeline
      .handle(request, record, extras)
      .catch((error: unknown): ImageOutcome => ({ kind: 'error', error: unexpectedFailure(error, 'POST', IMAGE_PATH) }))
      .then((outcome) => sendOnNode(deps, req, res, outcome, record, extras))
      .then(async (retryAfter) => {
        finishRecord(record, record.status, startedAt);
        await deps.keep(record, extras, retryAfter);
        extras.breakConnection?.();
      })
      .catch((error: unknown) => console.error('beia mock: failed to answer an image request:', error));
  };
}

/** The image route as a Hono handler: for `app.request()`, `mockDispatcher()` and an app served by other means. */
export function honoImageRoute(deps: ImageEdgeDeps): (c: Context<MockEnv>) => Promise<Response> {
  return async function handleImageRequest(c) {
    const record = c.get('record');
    const request: ImageRequest = {
      peerAddress: peerAddress(c),
      header: (name) => c.req.header(name),
      body: () => requestBody(c),
      signal: c.req.raw.signal,
      connection: connectionOf(c),
    };
    const outcome = await deps.pipeline.handle(request, record, c.get('extras'));
    return sendOnHono(deps, c, outcome, record);
  };
}

/** Writes an outcome on Node's response and puts what went out on the record; the `Retry-After` of a 429, for the retry discipline. */
function sendOnNode(
  deps: ImageEdgeDeps,
  req: IncomingMessage,
  res: ServerResponse,
  outcome: ImageOutcome,
  record: RequestRecord,
  extras: RecordExtras,
): number | undefined {
  switch (outcome.kind) {
    case 'reply':
      sendReply(res, replyHeaders(deps, outcome.reply), outcome.reply, record);
      return undefined;
    case 'error':
      return sendError(deps, res, outcome, record);
    case 'broken':
      record.status = outcome.status;
      extras.breakConnection = outcome.breakNow;
      return undefined;
    case 'gone':
      gone(req, record);
      if (!res.headersSent && !res.destroyed) res.writeHead(499).end();
      return undefined;
  }
}

function sendOnHono(deps: ImageEdgeDeps, c: Context<MockEnv>, outcome: ImageOutcome, record: RequestRecord): Response {
  switch (outcome.kind) {
    case 'reply': {
      const outgoing = rawResponse(c);
      if (!outgoing) return new Response(replyBody(outcome.reply) as Uint8Array<ArrayBuffer>, { status: 200, headers: outcome.reply.headers });
      // Straight to the socket: the PNGs are written as they are, never copied into one body.
      sendReply(outgoing, replyHeaders(deps, outcome.reply), outcome.reply, record);
      return RESPONSE_ALREADY_SENT;
    }
    case 'error':
      return errorResponse(outcome.error, deps.config.rules.errorBody, outcome.credits);
    case 'broken':
      record.status = outcome.status;
      c.get('extras').breakConnection = outcome.breakNow;
      return RESPONSE_ALREADY_SENT;
    case 'gone':
      if (gone(c.env?.incoming, record)) return RESPONSE_ALREADY_SENT;
      return new Response(null, { status: 499 });
  }
}

/**
 * The client left, or its body failed because Node's parser refused it (a bad chunk, a body past
 * `requestTimeout`) and the mock answered from there: then the record shows that answer, else 499.
 * True when an answer went out.
 */
function gone(incoming: object | undefined, record: RequestRecord): boolean {
  const answered = transportAnswer(incoming);
  if (!answered) {
    record.status = 499;
    return false;
  }
  Object.assign(record, { status: answered.status, code: answered.code, error: answered.error, responseHeaders: answered.headers });
  return true;
}

function replyHeaders(deps: ImageEdgeDeps, reply: ImageReply): Record<string, string> {
  return { ...reply.headers, [HEADER.mockVersion]: deps.version, ...(deps.shutdown.aborted ? { Connection: 'close' } : {}) };
}

function sendReply(res: ServerResponse, headers: Record<string, string>, reply: ImageReply, record: RequestRecord): void {
  sendChunks(res, 200, headers, reply.chunks, reply.length);
  record.status = 200;
  // As a Headers object would list them: lower-case names.
  const sent: Record<string, string> = {};
  for (const name in headers) sent[name.toLowerCase()] = headers[name]!;
  sent['content-length'] = String(reply.length);
  record.responseHeaders = sent;
}

/** An error answer on Node's response, as `errorResponse` makes it for Hono. */
function sendError(deps: ImageEdgeDeps, res: ServerResponse, outcome: ImageOutcome & { kind: 'error' }, record: RequestRecord): number | undefined {
  const { error, credits } = outcome;
  const { headers, text } = errorAnswer(error, deps.config.rules.errorBody, credits);
  headers[HEADER.mockVersion.toLowerCase()] = deps.version;
  record.status = error.status;
  record.responseHeaders = { ...headers };
  if (deps.shutdown.aborted) headers.connection = 'close';
  if (!res.headersSent && !res.destroyed) {
    const bytes = text === undefined ? undefined : Buffer.from(text);
    res.writeHead(error.status, { ...headers, 'content-length': String(bytes?.length ?? 0) });
    res.end(bytes);
  }
  const retryAfter = error.status === 429 ? Number(error.headers['Retry-After']) : NaN;
  return Number.isFinite(retryAfter) ? retryAfter : undefined;
}

/** The connection of a Hono request: Node's response on a server, `mockDispatcher()`'s simulated socket, or none under `app.request()`. */
function connectionOf(c: Context<MockEnv>): BreakableConnection | undefined {
  const outgoing = rawResponse(c);
  return outgoing ? nodeConnection(outgoing) : c.env?.simulatedSocket;
}

function nodeConnection(res: ServerResponse): BreakableConnection {
  return {
    reset: () => resetConnection(res),
    truncate: (status, headers, body) => sendTruncated(res, status, headers, body),
  };
}

/** The most of an unread body dropped on a kept-alive connection, and for how long, before the connection is closed instead (as `@hono/node-server` does). */
const DRAIN_BYTES = 64 * 1024 * 1024;
const DRAIN_MS = 500;

function drainBody(req: IncomingMessage): void {
  if (req.readableEnded || req.destroyed) return;
  let bytes = 0;
  const close = () => {
    cleanUp();
    const socket = req.socket;
    if (!socket.destroyed) socket.destroySoon();
  };
  const timer = setTimeout(close, DRAIN_MS).unref();
  const onData = (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > DRAIN_BYTES) close();
  };
  const cleanUp = () => {
    clearTimeout(timer);
    req.off('data', onData).off('end', cleanUp).off('error', cleanUp);
  };
  req.on('data', onData).on('end', cleanUp).on('error', cleanUp);
  req.resume();
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}
