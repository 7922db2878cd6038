import type { Context } from 'hono';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { FIELD, HEADER } from '../contract/index.js';
import { tellsCreditsOn, type MockConfig } from './config/index.js';
import type { UploadBudget } from './form/upload-budget.js';
import type { ImageRenderer } from './images/renderer.js';
import type { ImageGallery } from './images/gallery.js';
import { ApiError, ClientGoneError, storeFailure } from './http/api-error.js';
import { transportAnswer } from './http/client-error.js';
import { errorResponse } from './http/respond.js';
import { peerAddress, rawResponse, requestBody, resetConnection, sendChunks, sendTruncated, type MockBindings } from './http/transport.js';
import { clientAddress, ipMatcher } from './net/ip.js';
import { waitOrAbort } from './pipeline/abort.js';
import { CHECKS } from './pipeline/checks.js';
import { processImage, replyBody, type ProcessOutcome } from './pipeline/process-image.js';
import { RequestState } from './pipeline/request-state.js';
import { forcedScenario } from './faults/index.js';
import { StoreError, type FaultType, type JournalPart, type MockStore } from './store/index.js';

/** A `Content-Length` the HTTP parser enforces, as a number; undefined when absent or odd. */
function contentLength(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,15}$/.test(value)) return undefined;
  return Number(value);
}

/** What the image route learnt about a request, for the journal and the log line. */
export interface RequestRecord {
  remoteAddress?: string;
  licenseId?: string;
  code?: string;
  /** Node's HTTP parser error that ended the request (a bad chunk, a body past its requestTimeout). */
  error?: string;
  scenario?: string;
  fault?: FaultType;
  parts?: JournalPart[];
  creditsRemaining?: number;
  /** The store failed this request (metrics count it). */
  storeError?: true;
  /** A `phase: "after"` fault spent the credit, then lost the answer. */
  charged?: true;
  answerLost?: true;
  /** Whether the images came from the result cache, once they were rendered. */
  cacheHit?: boolean;
  /** The images are a recording of the live API (replay). */
  replayed?: true;
  /** The recorder forwarded the request and kept the live 200 (record). */
  recorded?: true;
  /** The headers of an answer written straight to the socket (the journal shows them). */
  responseHeaders?: Record<string, string>;
  /** The license whose key the request proved (metrics label by it; a claimed id is not enough). */
  authenticated?: string;
  /**
   * The status to log when no answer went out through Hono: 499 when the client left first, 444
   * when the mock closed the connection without an answer (nginx's conventions), or the status of
   * the answer to an error of Node's HTTP parser (`http/client-error.ts`), with its
   * `responseHeaders`. Without `responseHeaders`, the journal shows none: none were sent.
   */
  status?: number;
}

export type MockEnv = { Bindings: MockBindings; Variables: { record: RequestRecord } };

export interface ImageRouteDeps {
  config: MockConfig;
  store: MockStore;
  random: () => number;
  /** Aborted when the server shuts down, to end hanging faults at once. */
  shutdown: AbortSignal;
  /** The mock's version, also on answers written straight to the socket. */
  version: string;
  /** Bounds the uploads held in memory (shared with the health route, which reports it). */
  uploads: UploadBudget;
  /** The result cache and the bounded renders (shared with the health route, which reports the cache). */
  renderer: ImageRenderer;
  /** The images of the newest requests, for the dashboard. */
  gallery: ImageGallery;
}

/**
 * The handler of `POST /beia-api/v1/image`: the checks in the configured order (M1), then
 * processing, then the answer. Whatever happens, the slot and credit a request held are
 * settled before the handler returns: spent for a 200, freed for anything else.
 */
export function imageRoute(deps: ImageRouteDeps) {
  const { config, store } = deps;
  const trustedProxies = ipMatcher(config.network.trustedProxies);

  return async function handleImageRequest(c: Context<MockEnv>): Promise<Response> {
    const record: RequestRecord = {};
    c.set('record', record);
    const signal = c.req.raw.signal;
    const address = clientAddress(peerAddress(c), c.req.header('x-forwarded-for'), trustedProxies);
    record.remoteAddress = address;
    const licenseHeader = c.req.header(HEADER.licenseId)?.trim() || undefined;
    record.licenseId = licenseHeader;

    const forced = config.rules.scenarioHeader
      ? forcedScenario(c.req.header(HEADER.mockScenario), c.req.header('prefer'), config.processing.retryAfterSeconds, config.faults.maxHangMs)
      : undefined;
    if (forced) record.scenario = forced.scenario;
    if (forced && 'error' in forced) return answerScenario(forced.error, licenseHeader, address);

    const state = new RequestState(
      {
        clientAddress: address,
        contentType: c.req.header('content-type'),
        contentLength: contentLength(c.req.header('content-length')),
        licenseHeader,
        body: () => requestBody(c),
        signal,
      },
      config,
      store,
      deps.renderer,
      deps.uploads,
    );
    try {
      for (const name of config.rules.checkOrder) await CHECKS[name](state);
      const outcome = await processImage(state, deps.random, forced?.fault);
      record.creditsRemaining = outcome.reply.creditsRemaining;
      if (outcome.kind === 'transport-fault') {
        if (outcome.charged) Object.assign(record, { charged: true, answerLost: true });
        return await transportFault(c, outcome, signal, record);
      }
      const { reply } = outcome;
      const outgoing = rawResponse(c);
      if (outgoing) {
        // Straight to the socket: the PNGs are written as they are, never copied into one body.
        const headers = { ...reply.headers, [HEADER.mockVersion]: deps.version, ...(deps.shutdown.aborted ? { Connection: 'close' } : {}) };
        sendChunks(outgoing, 200, headers, reply.chunks, reply.length);
        // As a Headers object would list them: lower-case names.
        record.responseHeaders = Object.fromEntries(
          Object.entries({ ...headers, 'Content-Length': String(reply.length) }).map(([name, value]) => [name.toLowerCase(), value]),
        );
        return RESPONSE_ALREADY_SENT;
      }
      return new Response(replyBody(reply) as Uint8Array<ArrayBuffer>, { status: 200, headers: reply.headers });
    } catch (error) {
      if (error instanceof ClientGoneError) {
        // The body failed because Node's parser refused it (a bad chunk, a body past requestTimeout)
        // and the mock answered from there: the client got that answer, not nothing.
        const answered = transportAnswer(c.env?.incoming);
        if (answered) {
          Object.assign(record, { status: answered.status, code: answered.code, error: answered.error, responseHeaders: answered.headers });
          return RESPONSE_ALREADY_SENT;
        }
        record.status = 499;
        return new Response(null, { status: 499 });
      }
      if (error instanceof StoreError) {
        // The state could not be read or recorded: nothing was spent that is not on record.
        record.code = 'internal_error';
        record.storeError = true;
        return errorResponse(storeFailure(error), config.rules.errorBody);
      }
      if (!(error instanceof ApiError)) throw error;
      record.code = error.code;
      const credits = await creditsToTell(state, error);
      record.creditsRemaining = credits;
      return errorResponse(error, config.rules.errorBody, credits);
    } finally {
      state.release();
      // Frees the slot; if the store is away, its lease ends by itself (nothing is spent either way).
      if (state.ticket) await store.settle(state.ticket, false).catch((error: unknown) => console.error(`beia mock: ${(error as Error).message}`));
      record.fault = state.fault?.type;
      if (state.authenticated) record.authenticated = state.authenticated.licenseId;
      const rendered = state.rendered;
      if (rendered?.replayed) record.replayed = true;
      else if (rendered) record.cacheHit = rendered.cached === true;
      const form = state.parsedForm;
      if (form) {
        record.parts = form.parts;
        record.licenseId ??= form.fields.get(FIELD.licenseId);
        // For the dashboard: kept by reference, drawn small only when a page asks.
        if (form.image) deps.gallery.keep(form.image.sha256.toString('hex'), { upload: form.image.data, result: rendered?.result, cropped: rendered?.cropped });
      }
    }
  };

  async function answerScenario(error: ApiError, licenseHeader: string | undefined, address: string): Promise<Response> {
    const license = licenseHeader === undefined ? undefined : await store.getLicense(licenseHeader);
    // Credits are told only to an address the license allows, so the header cannot be used to read them.
    const allowed = license !== undefined && ipMatcher(license.allowedIps).has(address);
    // A forced 400 stands for one answered before the license is known (M3): no header.
    const tellsCredits = allowed && error.status !== 400 && tellsCreditsOn(config.rules.creditsRemainingOnErrors, error.status);
    const credits = tellsCredits ? (error.status === 402 ? 0 : license.credits) : undefined;
    return errorResponse(error, config.rules.errorBody, credits);
  }

  /** `Credits-Remaining` on an error (M3): once the license is authenticated, never on 401/403. */
  async function creditsToTell(state: RequestState, error: ApiError): Promise<number | undefined> {
    if (!state.authenticated || !tellsCreditsOn(config.rules.creditsRemainingOnErrors, error.status)) return undefined;
    return (await store.getLicense(state.authenticated.licenseId))?.credits;
  }

  async function transportFault(
    c: Context<MockEnv>,
    outcome: ProcessOutcome & { kind: 'transport-fault' },
    signal: AbortSignal,
    record: RequestRecord,
  ): Promise<Response> {
    const outgoing = rawResponse(c);
    const simulated = c.env?.simulatedSocket;
    if (!outgoing && !simulated) {
      throw new ApiError(
        'internal_error',
        `Fault ${outcome.fault.type} needs a connection to break; it cannot run under app.request(). Start the mock with startMockServer(), or call it through mockDispatcher().`,
      );
    }
    const reset = () => (outgoing ? resetConnection(outgoing) : simulated?.reset());
    if (outcome.fault.type === 'hang') {
      await waitOrAbort(config.faults.maxHangMs, AbortSignal.any([signal, deps.shutdown])).catch(() => {});
      record.status = signal.aborted ? 499 : 444;
      reset();
    } else if (outcome.fault.type === 'reset') {
      record.status = 444;
      reset();
    } else {
      const headers = { ...outcome.reply.headers, [HEADER.mockVersion]: deps.version };
      if (outgoing) sendTruncated(outgoing, 200, headers, replyBody(outcome.reply));
      else simulated?.truncate(200, headers, replyBody(outcome.reply));
    }
    return RESPONSE_ALREADY_SENT;
  }
}
