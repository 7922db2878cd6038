import type { Readable } from 'node:stream';
import { FIELD, HEADER } from '../../contract/index.js';
import { tellsCreditsOn, type MockConfig } from '../config/index.js';
import type { UploadBudget } from '../form/upload-budget.js';
import type { ImageGallery } from '../images/gallery.js';
import type { ImageRenderer } from '../images/renderer.js';
import { actOnConnection, type BreakableConnection } from '../faults/index.js';
import { ApiError, ClientGoneError, storeFailure } from '../http/api-error.js';
import { ipMatcher, type IpMatcher } from '../net/ip.js';
import { identifyClient } from '../record/keep-record.js';
import type { RecordExtras, RequestRecord } from '../record/request-record.js';
import { StoreError, type FiredFault, type MockStore } from '../store/index.js';
import { CHECKS } from './checks.js';
import { processImage, type ImageReply } from './process-image.js';
import { RequestState } from './request-state.js';
import { forcedScenario } from '../faults/index.js';

/** What the transport knows about an image request before its body is read, whichever transport it is. */
export interface ImageRequest {
  /** The socket's peer (or what an in-process caller poses as). */
  peerAddress: string;
  header: (name: 'x-forwarded-for' | 'license-id' | 'content-type' | 'content-length' | 'x-beia-mock-scenario' | 'prefer') => string | undefined;
  /** The request body, read only when a check needs the form. */
  body: () => Readable;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** The connection a transport fault breaks: a socket's response, or `mockDispatcher()`'s simulated one; none under `app.request()`. */
  connection: BreakableConnection | undefined;
}

/**
 * How the pipeline answers: a 200 to send; an error to render (with the credits to tell); a
 * connection for a transport fault (reset, truncate, hang) to break once the request is on
 * record, with the status the record shows; or nothing, because the client left (or Node's
 * parser answered its body already).
 */
export type ImageOutcome =
  | { kind: 'reply'; reply: ImageReply }
  | { kind: 'error'; error: ApiError; credits?: number }
  | { kind: 'broken'; status: number; breakNow: () => void }
  | { kind: 'gone' };

export interface ImagePipelineDeps {
  config: MockConfig;
  store: MockStore;
  /** Source of randomness for the processing time's jitter. */
  random: () => number;
  /** Bounds the uploads held in memory (shared with the health route, which reports it). */
  uploads: UploadBudget;
  /** The result cache and the bounded renders (shared with the health route, which reports the cache). */
  renderer: ImageRenderer;
  /** The images of the newest requests, for the dashboard. */
  gallery: ImageGallery;
  /** The mock's version, in the head of a truncated answer. */
  version: string;
  /** Aborted at shutdown: a hanging fault ends at once. */
  shutdown: AbortSignal;
}

/**
 * `POST /beia-api/v1/image` without its transport: the checks in the configured order (M1), then
 * processing, then the outcome the transport sends (`http/image-edges.ts`: Node's own response on
 * a server, Hono's `Response` in-process). Whatever happens, the slot and credit a request held
 * are settled before {@link handle} returns: spent for a 200, freed for anything else. Each step
 * writes what it learnt into the request's {@link RequestRecord}.
 */
export class ImagePipeline {
  readonly #deps: ImagePipelineDeps;
  readonly #trustedProxies: IpMatcher;

  constructor(deps: ImagePipelineDeps) {
    this.#deps = deps;
    this.#trustedProxies = ipMatcher(deps.config.network.trustedProxies);
  }

  async handle(request: ImageRequest, record: RequestRecord, extras: RecordExtras): Promise<ImageOutcome> {
    const { config } = this.#deps;
    const { address, licenseHeader } = identifyClient(record, request.peerAddress, request.header, this.#trustedProxies);

    const forced = config.rules.scenarioHeader
      ? forcedScenario(request.header('x-beia-mock-scenario'), request.header('prefer'), config.processing.retryAfterSeconds, config.faults.maxHangMs)
      : undefined;
    if (forced) record.scenario = forced.scenario;
    if (forced && 'error' in forced) return this.#answerScenario(forced.error, licenseHeader, address);

    const state = this.#stateOf(request, address, licenseHeader);
    try {
      for (const name of config.rules.checkOrder) await CHECKS[name](state);
      const outcome = await processImage(state, this.#deps.random, forced?.fault);
      record.creditsRemaining = outcome.reply.creditsRemaining;
      if (outcome.kind === 'reply') return outcome;
      if (outcome.charged) Object.assign(record, { charged: true, answerLost: true });
      return { kind: 'broken', ...(await this.#breakConnection(request, outcome)) };
    } catch (error) {
      return await this.#failed(error, state, record, extras);
    } finally {
      await this.#settle(state, record, extras);
    }
  }

  /** A transport fault acts on the connection while the request still holds its slot. */
  async #breakConnection(request: ImageRequest, outcome: { fault: FiredFault; reply: ImageReply }): Promise<{ status: number; breakNow: () => void }> {
    const { config, version, shutdown } = this.#deps;
    if (!request.connection) {
      throw new ApiError(
        'internal_error',
        `Fault ${outcome.fault.type} needs a connection to break; it cannot run under app.request(). Start the mock with startMockServer(), or call it through mockDispatcher().`,
      );
    }
    const headers = { ...outcome.reply.headers, [HEADER.mockVersion]: version };
    return actOnConnection(outcome, request.connection, headers, { maxHangMs: config.faults.maxHangMs, client: request.signal, shutdown });
  }

  #stateOf(request: ImageRequest, address: string, licenseHeader: string | undefined): RequestState {
    const { config, store, renderer, uploads } = this.#deps;
    return new RequestState(
      {
        clientAddress: address,
        contentType: request.header('content-type'),
        contentLength: contentLength(request.header('content-length')),
        licenseHeader,
        body: request.body,
        signal: request.signal,
      },
      config,
      store,
      renderer,
      uploads,
    );
  }

  /** A check or processing failed: the outcome that tells the client, and what the record says of it. */
  async #failed(error: unknown, state: RequestState, record: RequestRecord, extras: RecordExtras): Promise<ImageOutcome> {
    if (error instanceof ClientGoneError) return { kind: 'gone' };
    if (error instanceof StoreError) {
      // The state could not be read or recorded: nothing was spent that is not on record.
      record.code = 'internal_error';
      extras.storeError = true;
      return { kind: 'error', error: storeFailure(error) };
    }
    if (!(error instanceof ApiError)) throw error;
    record.code = error.code;
    const credits = await this.#creditsToTell(state, error);
    if (credits !== undefined) record.creditsRemaining = credits;
    return credits === undefined ? { kind: 'error', error } : { kind: 'error', error, credits };
  }

  /** The slot freed if it is still held, the upload's memory freed, and what the request learnt put on record. */
  async #settle(state: RequestState, record: RequestRecord, extras: RecordExtras): Promise<void> {
    state.release();
    // Frees the slot; if the store is away, its lease ends by itself (nothing is spent either way).
    if (state.ticket) await this.#deps.store.settle(state.ticket, false).catch((error: unknown) => console.error(`beia mock: ${(error as Error).message}`));
    if (state.fault) record.fault = state.fault.type;
    if (state.authenticated) extras.authenticated = state.authenticated.licenseId;
    const rendered = state.rendered;
    if (rendered?.replayed) record.replayed = true;
    else if (rendered) record.cacheHit = rendered.cached === true;
    const form = state.parsedForm;
    if (!form) return;
    record.parts = form.parts;
    record.licenseId ??= form.fields.get(FIELD.licenseId);
    // For the dashboard: kept by reference, drawn small only when a page asks.
    if (form.image)
      this.#deps.gallery.keep(form.image.sha256.toString('hex'), { upload: form.image.data, result: rendered?.result, cropped: rendered?.cropped });
  }

  /** A status forced by the scenario header: no state touched, the credits told as a real answer would. */
  async #answerScenario(error: ApiError, licenseHeader: string | undefined, address: string): Promise<ImageOutcome> {
    const { config, store } = this.#deps;
    const license = licenseHeader === undefined ? undefined : await store.getLicense(licenseHeader);
    // Credits are told only to an address the license allows, so the header cannot be used to read them.
    const allowed = license !== undefined && ipMatcher(license.allowedIps).has(address);
    // A forced 400 stands for one answered before the license is known (M3): no header.
    const tellsCredits = allowed && error.status !== 400 && tellsCreditsOn(config.rules.creditsRemainingOnErrors, error.status);
    return tellsCredits ? { kind: 'error', error, credits: error.status === 402 ? 0 : license.credits } : { kind: 'error', error };
  }

  /** `Credits-Remaining` on an error (M3): once the license is authenticated, never on 401/403. */
  async #creditsToTell(state: RequestState, error: ApiError): Promise<number | undefined> {
    const { config, store } = this.#deps;
    if (!state.authenticated || !tellsCreditsOn(config.rules.creditsRemainingOnErrors, error.status)) return undefined;
    return (await store.getLicense(state.authenticated.licenseId))?.credits;
  }
}

/** A `Content-Length` the HTTP parser enforces, as a number; undefined when absent or odd. */
function contentLength(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,15}$/.test(value)) return undefined;
  return Number(value);
}
