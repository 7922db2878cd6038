import { Readable } from 'node:stream';
import type { Context } from 'hono';
import type { Dispatcher } from 'undici';
import { decodeMultipartMixed, FIELD, readImageBundle } from '../contract/index.js';
import { LOOPBACK_IPS, type MockConfig } from './config/index.js';
import { parseForm, type ParsedForm } from './form/parse-form.js';
import type { UploadTicket } from './form/upload-budget.js';
import { ApiError, ClientGoneError } from './http/api-error.js';
import { errorResponse } from './http/respond.js';
import { peerAddress, requestBody } from './http/transport.js';
import type { MockEnv } from './image-route.js';
import { ipMatcher } from './net/ip.js';
import { identifyClient } from './record/keep-record.js';
import { readIncludeCropped } from './pipeline/include-cropped.js';
import { isMultipartFormData } from './pipeline/request-state.js';
import type { RecordingFolder } from './recordings/folder.js';

/** `beia mock --record-from URL --recordings DIR`: forward to the live API, keep its 200s. */
export interface RecordOptions {
  /** The live image endpoint, e.g. `https://aws.beiatechnology.com/beia-api/v1/image`. */
  from: string;
  recordings: RecordingFolder;
  /** At most this many requests forwarded with this folder, counted across restarts (`budget.json`); no bound when absent. */
  budget?: number;
  /** How to reach the live API (the client's `networkDispatcher`: a proxy, a CA, a source address); undici's global one when absent. */
  dispatcher?: Dispatcher;
  /** Who may use the recorder, as addresses or CIDR blocks: each request may cost a live credit. Loopback when absent. */
  allowedIps?: readonly string[];
  /** Where a live answer that is passed through but not kept is reported; stderr when absent. */
  warn?: (message: string) => void;
}

/** The headers that describe an answer: passed back to the caller, and kept in `recording.json` for a 200. */
const DESCRIBING = ['content-type', 'content-encoding', 'content-language', 'credits-remaining', 'retry-after', 'cache-control', 'etag', 'last-modified'];

/** Request headers that belong to one connection, or to the mock: never forwarded. */
const NOT_FORWARDED = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'content-length',
]);

/** What the form may add to the upload: the recorder holds a request in memory up to `limits.maxUploadBytes` plus this. */
const FORM_ALLOWANCE = 1024 * 1024;
/** The most of a live answer the recorder reads. */
const MAX_ANSWER_BYTES = 256 * 1024 * 1024;

/** The upload budget does not apply: the body is read (and bounded) before the form is parsed from memory. */
const NO_TICKET: UploadTicket = { add() {}, received() {}, release() {} };

/**
 * The image route of a recorder: a forwarding proxy to the live API, which decides (no license,
 * credit, limit or fault of the mock's applies); only who may use it is limited. The caller's
 * request goes out as it came (its credentials untouched, never kept); the live answer comes back
 * as it came (status, the headers that describe it, body); a 200 is kept in the recordings folder
 * by the upload's sha256 and `includeCroppedImage`.
 */
export function recordRoute(deps: { config: MockConfig; record: RecordOptions }) {
  const { config, record: options } = deps;
  const trustedProxies = ipMatcher(config.network.trustedProxies);
  const allowedIps = options.allowedIps ?? LOOPBACK_IPS;
  const allowed = ipMatcher(allowedIps);
  const liveUrl = publicUrl(options.from);
  const warn = options.warn ?? ((message: string) => console.error(`beia mock: ${message}`));
  const dir = options.recordings.dir;

  return async function handleRecordRequest(c: Context<MockEnv>): Promise<Response> {
    const record = c.get('record');
    const signal = c.req.raw.signal;
    const { address } = identifyClient(record, peerAddress(c), (name) => c.req.header(name), trustedProxies);
    try {
      if (!allowed.has(address)) {
        throw new ApiError(
          'ip_not_allowed',
          `This mock records: it forwards requests to the live API, each of which may cost a credit, only from ${allowedIps.join(', ')}; this one came from ${address}. Allow more with --record-allow (BEIA_MOCK_RECORD_ALLOW), e.g. --record-allow 127.0.0.1,172.16.0.0/12 for Docker's bridge network.`,
        );
      }
      const body = await readBody(requestBody(c), config.limits.maxUploadBytes + FORM_ALLOWANCE, signal);
      const form = await readForm(body, c.req.header('content-type'), config, signal);
      if (form) {
        record.parts = form.parts;
        record.licenseId ??= form.fields.get(FIELD.licenseId);
      }
      const reservation = await options.recordings.reserveForward(options.budget);
      if (!reservation.ok) {
        throw new ApiError(
          'record_budget_spent',
          `The record budget is spent: ${reservation.forwarded} requests were forwarded to the live API with ${dir}, and --record-budget allows ${options.budget} (counted in ${dir}/budget.json, across restarts). Each forwarded request may cost a live credit. Raise --record-budget to record more, or replay what is recorded: beia mock --recordings ${dir}.`,
        );
      }
      const live = await forward(options, liveUrl, c.req.raw.headers, body);
      const credits = live.headers['credits-remaining'];
      if (credits !== undefined && /^\d{1,15}$/.test(credits)) record.creditsRemaining = Number(credits);
      const key = uploadKey(form, config);
      if (live.status !== 200) warn(`the live API answered ${live.status} (${liveError(live.body)}): passed through, not recorded.`);
      else if (!key) warn('the live API answered 200 to a request whose image or includeCroppedImage the mock cannot read: passed through, not recorded.');
      else {
        try {
          await options.recordings.keep({ ...key, liveUrl, headers: live.headers, ...liveImages(live.body, live.headers['content-type'] ?? '') });
          record.recorded = true;
        } catch (error) {
          warn(`the live API's 200 for the upload ${key.sha256} is passed through, not recorded: ${(error as Error).message}.`);
        }
      }
      const empty = live.status === 204 || live.status === 205 || live.status === 304;
      return new Response(empty ? null : (live.body as Uint8Array<ArrayBuffer>), { status: live.status, headers: live.headers });
    } catch (error) {
      if (error instanceof ClientGoneError) {
        record.status = 499;
        return new Response(null, { status: 499 });
      }
      if (!(error instanceof ApiError)) throw error;
      record.code = error.code;
      return errorResponse(error, config.rules.errorBody);
    }
  };
}

/** The live endpoint as a recording names it: no credentials, no query. */
function publicUrl(endpoint: string): string {
  const url = new URL(endpoint);
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** The request body, whole, bounded; a client that leaves is a {@link ClientGoneError}. */
function readBody(stream: Readable, maxBytes: number, signal: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      stream.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      signal.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve(Buffer.concat(chunks, length));
    };
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      chunks.push(chunk);
      if (length <= maxBytes) return;
      stream.pause();
      finish(
        new ApiError(
          'payload_too_large',
          `The request is over ${maxBytes} bytes, the most the recorder holds (limits.maxUploadBytes and 1 MiB of form). Raise limits.maxUploadBytes in the mock's config to forward larger uploads.`,
          { Connection: 'close' },
        ),
      );
    };
    const onEnd = () => finish();
    const onError = (error: Error) => finish(new ClientGoneError(`request body failed: ${error.message}`));
    const onClose = () => {
      if (!stream.readableEnded) finish(new ClientGoneError('client closed the connection during the upload'));
    };
    const onAbort = () => finish(new ClientGoneError('client closed the connection during the upload'));
    if (signal.aborted) return onAbort();
    stream.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The form, parsed from memory for the recording's key and the journal (the API key masked); undefined when the mock cannot read it. */
async function readForm(body: Buffer, contentType: string | undefined, config: MockConfig, signal: AbortSignal): Promise<ParsedForm | undefined> {
  if (contentType === undefined || !isMultipartFormData(contentType)) return undefined;
  // Only the body's own size bounds it: the live API, not the mock, decides what is too large.
  const limits = { ...config.limits, maxUploadBytes: body.length, maxFieldBytes: body.length, maxParts: 1000, minBytesPerSecond: 0 };
  return parseForm(Readable.from([body], { objectMode: false }), contentType, limits, signal, NO_TICKET, body.length).catch(() => undefined);
}

/** What decides the answer: the upload's sha256 and `includeCroppedImage`, read as the replaying mock reads it. */
function uploadKey(form: ParsedForm | undefined, config: MockConfig): { sha256: string; includeCroppedImage: boolean; uploadBytes: number } | undefined {
  if (!form?.image || form.image.data.length === 0) return undefined;
  try {
    const includeCroppedImage = readIncludeCropped(form.fields.get(FIELD.includeCroppedImage), config.rules);
    return { sha256: form.image.sha256.toString('hex'), includeCroppedImage, uploadBytes: form.image.data.length };
  } catch {
    return undefined;
  }
}

interface LiveAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** The request as it came (body and end-to-end headers) to the live endpoint; its answer, read whole. */
async function forward(options: RecordOptions, liveUrl: string, incoming: Headers, body: Buffer): Promise<LiveAnswer> {
  const headers: Record<string, string> = {};
  incoming.forEach((value, name) => {
    if (!NOT_FORWARDED.has(name) && !name.startsWith('x-beia-mock-')) headers[name] = value;
  });
  try {
    // undici only for a mock that records: loaded by the first request it forwards.
    const { request } = await import('undici');
    const answer = await request(options.from, { method: 'POST', headers, body, ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}) });
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of answer.body as AsyncIterable<Buffer>) {
      length += chunk.length;
      if (length > MAX_ANSWER_BYTES) {
        answer.body.destroy();
        throw new Error(`the answer is over ${MAX_ANSWER_BYTES} bytes`);
      }
      chunks.push(chunk);
    }
    if (answer.statusCode < 200 || answer.statusCode > 599) throw new Error(`the answer's status ${answer.statusCode} cannot be passed on`);
    const described: Record<string, string> = {};
    for (const name of DESCRIBING) {
      const value = answer.headers[name];
      if (value !== undefined) described[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    return { status: answer.statusCode, headers: described, body: Buffer.concat(chunks, length) };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as { code?: string }).code;
    throw new ApiError(
      'record_upstream_failed',
      `Failed to get an answer from the live API at ${liveUrl}: ${(error as Error).message}${cause ? ` (${cause})` : ''}. The request counts against the record budget: it may have reached the API. Check the URL and the route (--proxy, --ca-file, --source-address).`,
    );
  }
}

/** The images of a live 200: a PNG, or the parts of a multipart/mixed answer (read by name, id or order, as the client reads them). */
function liveImages(body: Buffer, contentType: string): { result: Buffer; cropped?: Buffer } {
  if (/^image\/png\b/i.test(contentType)) return { result: body };
  if (!/^multipart\/mixed\b/i.test(contentType)) throw new Error(`its Content-Type is "${contentType}", neither image/png nor multipart/mixed`);
  const bundle = readImageBundle(decodeMultipartMixed(body, contentType));
  const images: { result: Buffer; cropped?: Buffer } = { result: Buffer.from(bundle.result) };
  if (bundle.cropped) images.cropped = Buffer.from(bundle.cropped);
  return images;
}

/** A live error for the log: its body's code when it is the JSON the mock sends too, else its size. */
function liveError(body: Buffer): string {
  try {
    const code = (JSON.parse(body.toString('utf8')) as { error?: { code?: unknown } }).error?.code;
    if (typeof code === 'string') return code.slice(0, 60);
  } catch {
    // not JSON
  }
  return `${body.length} bytes`;
}
