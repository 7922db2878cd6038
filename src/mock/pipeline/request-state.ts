import { FIELD } from '../../contract/index.js';
import type { MockConfig } from '../config/index.js';
import { parseForm, type ParsedForm } from '../form/parse-form.js';
import type { UploadBudget, UploadTicket } from '../form/upload-budget.js';
import { ApiError } from '../http/api-error.js';
import { readIncludeCropped } from './include-cropped.js';
import type { RenderedImages } from '../images/render.js';
import type { ImageRenderer } from '../images/renderer.js';
import type { FiredFault, LicenseState, MockStore, Ticket } from '../store/index.js';
import type { Readable } from 'node:stream';

/** What the HTTP layer knows about a request before its body is read. */
export interface RequestFacts {
  /** The client's address, after trusted proxies (see `clientAddress`). */
  clientAddress: string;
  contentType: string | undefined;
  /** The body's length when the client sent `Content-Length` (Node's parser holds the body to it). */
  contentLength?: number | undefined;
  licenseHeader: string | undefined;
  /** The request body, read only when a check needs the form. */
  body: () => Readable;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

/** Everything one image request has learnt so far, shared by the checks in whatever order they run. */
export class RequestState {
  readonly facts: RequestFacts;
  readonly config: MockConfig;
  readonly store: MockStore;
  /** Set once `auth` passed: from then on errors may tell the credits (M3). */
  authenticated: LicenseState | undefined;
  /** Set once `slot` admitted the request: a slot and a credit are held until settled. */
  ticket: Ticket | undefined;
  /** Whether any fault was armed when `slot` admitted the request (true when the store does not say): processing asks the store for one only then. */
  faultsArmed = true;
  /** Set once `image` decoded the upload (or found it in the cache): the result, and the cropped image if asked. */
  rendered: RenderedImages | undefined;
  /** The armed fault this request drew, if any. */
  fault: FiredFault | undefined;
  #form: Promise<ParsedForm> | undefined;
  #includeCropped: Promise<boolean> | undefined;
  #license: { id: string; read: Promise<LicenseState | undefined> } | undefined;
  #parsed: ParsedForm | undefined;
  #upload: UploadTicket | undefined;

  /** The image work of this process: the result cache, then a bounded number of renders. */
  readonly renderer: ImageRenderer;
  /** Bounds the uploads held in memory in this process, by bytes, and per client address. */
  readonly uploads: UploadBudget;

  constructor(facts: RequestFacts, config: MockConfig, store: MockStore, renderer: ImageRenderer, uploads: UploadBudget) {
    this.facts = facts;
    this.config = config;
    this.store = store;
    this.renderer = renderer;
    this.uploads = uploads;
  }

  /** The request is over: the memory its upload held is free. */
  release(): void {
    this.#upload?.release();
  }

  /** The parsed form; the body is read the first time a check asks for it. */
  form(): Promise<ParsedForm> {
    if (this.#form) return this.#form;
    const contentType = this.facts.contentType ?? '';
    if (!isMultipartFormData(contentType)) {
      this.#form = Promise.reject(
        new ApiError(
          'unsupported_content_type',
          `Content-Type is "${contentType || '(none)'}"; expected multipart/form-data with a boundary. Send the fields as a multipart form (curl -F, requests files=, form-data).`,
        ),
      );
    } else {
      // Runs at once up to the first await: the upload's place is taken synchronously.
      this.#form = (async () => {
        this.#upload = this.uploads.open(this.facts.clientAddress);
        const form = await parseForm(this.facts.body(), contentType, this.config.limits, this.facts.signal, this.#upload, this.facts.contentLength);
        this.#parsed = form;
        return form;
      })();
    }
    return this.#form;
  }

  /** The form if it was read, for the journal. */
  get parsedForm(): ParsedForm | undefined {
    return this.#parsed;
  }

  /**
   * `includeCroppedImage` (M4), read from the form once and used by every later step; rejects with
   * the 400 of a value `rules.strictBooleans` refuses.
   */
  includeCroppedImage(): Promise<boolean> {
    this.#includeCropped ??= this.form().then((form) => readIncludeCropped(form.fields.get(FIELD.includeCroppedImage), this.config.rules));
    return this.#includeCropped;
  }

  /**
   * The license the request claims: the `License-Id` header, known before the body, else the
   * form's field. One rule for every check; `license-header` refuses a request whose two differ.
   */
  async claimedLicenseId(): Promise<string | undefined> {
    if (this.facts.licenseHeader) return this.facts.licenseHeader;
    return (await this.form()).fields.get(FIELD.licenseId);
  }

  /**
   * The license the request claims, when the store knows it: read from the store once per request
   * (with the Redis store, one round trip), and used by every check that needs it. What changes
   * while the request runs (credits, slots) is decided again, atomically, by `admit` and `settle`.
   */
  async claimedLicense(): Promise<LicenseState | undefined> {
    const id = await this.claimedLicenseId();
    return id === undefined ? undefined : this.license(id);
  }

  /** The license of this id, read once per request. */
  license(id: string): Promise<LicenseState | undefined> {
    if (this.#license?.id !== id) this.#license = { id, read: this.store.getLicense(id) };
    return this.#license.read;
  }
}

/** True for `multipart/form-data` with a non-empty boundary parameter (RFC 7578 section 4.1). */
export function isMultipartFormData(contentType: string): boolean {
  const [type = '', ...params] = contentType.split(';');
  if (type.trim().toLowerCase() !== 'multipart/form-data') return false;
  return params.some((param) => /^\s*boundary\s*=\s*("[^"]+"|[^\s"]+)\s*$/i.test(param));
}
