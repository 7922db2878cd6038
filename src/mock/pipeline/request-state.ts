import { FIELD } from '../../contract/index.js';
import type { MockConfig } from '../config/index.js';
import { parseForm, type ParsedForm } from '../form/parse-form.js';
import type { UploadBudget, UploadTicket } from '../form/upload-budget.js';
import { ApiError } from '../http/api-error.js';
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
  /** Set once `image` decoded the upload (or found it in the cache): the result, and the cropped image if asked. */
  rendered: RenderedImages | undefined;
  /** The armed fault this request drew, if any. */
  fault: FiredFault | undefined;
  #form: Promise<ParsedForm> | undefined;
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

  /** The license the request claims: the `License-Id` header, else the form's field. */
  async claimedLicenseId(): Promise<string | undefined> {
    if (this.facts.licenseHeader) return this.facts.licenseHeader;
    return (await this.form()).fields.get(FIELD.licenseId);
  }

  /** The license the request claims, when the store knows it. */
  async claimedLicense(): Promise<LicenseState | undefined> {
    const id = await this.claimedLicenseId();
    return id === undefined ? undefined : this.store.getLicense(id);
  }
}

/** True for `multipart/form-data` with a non-empty boundary parameter (RFC 7578 section 4.1). */
export function isMultipartFormData(contentType: string): boolean {
  const [type = '', ...params] = contentType.split(';');
  if (type.trim().toLowerCase() !== 'multipart/form-data') return false;
  return params.some((param) => /^\s*boundary\s*=\s*("[^"]+"|[^\s"]+)\s*$/i.test(param));
}
