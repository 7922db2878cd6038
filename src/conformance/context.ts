import type { Dispatcher } from 'undici';
import { HEADER, parseCredits } from '../contract/index.js';
import { MockAdminError, type FaultSpec, type MockAdminClient } from '../mock/light.js';
import { credentialsRefused, NotRunError } from './preflight.js';
import type { Samples } from './samples.js';
import type { CaseResult, RuleKind } from './results.js';
import { vendorRequest, type FormPart, type Wire, type WireRequest, type WireResponse } from './wire.js';

export interface Credentials {
  licenseId: string;
  apiKey: string;
}

/** What the suite runs against, and what the caller gave it. */
export interface Target {
  endpoint: string;
  /** `mock`: the in-process beia mock, whose own defaults (M1 to M10) are asserted. `url`: anything else. */
  kind: 'mock' | 'url';
  credentials: Credentials;
  zeroCreditLicense?: Credentials;
  /**
   * With `admin` and no `zeroCreditLicense`: the run makes one for the 402 cases through the admin
   * API (`POST /__admin/licenses`: a fresh id, no credits, a short TTL) and deletes it at its end.
   */
  makeZeroCreditLicense?: boolean;
  unlistedSourceAddress?: string;
  admin?: MockAdminClient;
  /**
   * How to reach the endpoint from a local address (none: the default one), instead of undici's
   * own agents: e.g. an in-process `mockDispatcher()` and its `from(address)`, with no socket.
   */
  dispatcher?: (localAddress?: string) => Dispatcher;
  /** The proxy requests go through (its URL without credentials), when they do: the target then sees the proxy's address. */
  proxy?: string;
}

/** How long the suite holds each slot of a burst on a target it controls (an armed latency fault). */
export const HOLD_MS = 1000;

/** How long a zero-credit license the run makes lives, should the run die before deleting it. */
const MADE_LICENSE_TTL_SECONDS = 600;

/** A fault the run armed, removed by {@link disarm} (and by the run's cleanup, should the case not get there). */
export interface ArmedByRun {
  id: string;
  disarm(): Promise<void>;
}

/**
 * State shared by the cases of one run: paid answers made once, observations, credits seen, and
 * what the run made on the target (removed at its end, interrupted or not).
 */
export class RunState {
  /** The target as the cases see it: the caller's, with what the run made for it (a zero-credit license). */
  readonly target: Target;
  readonly observations: Record<string, unknown> = {};
  /** The case that recorded each observation, so that a drift names it. */
  readonly observedBy: Record<string, string> = {};
  readonly #paid = new Map<string, Promise<WireResponse>>();
  /**
   * The run license's Credits-Remaining of every 200, in order: what the budget guard and the
   * credit cases read. Errors are left out: the page says every answer carries the header, so a
   * target may well send 0 on a 401, which says nothing about the credits spent.
   */
  readonly creditsSeen: number[] = [];
  /** The paid answers in the order they were sent. */
  readonly paidOrder: Array<'png' | 'mixed'> = [];
  /** A request that expected the run's credentials to be accepted got an answer other than 401 or 403. */
  credentialsProven = false;
  /** Undoes what the run made on the target, newest first. */
  readonly #cleanups = new Map<string, () => Promise<unknown>>();

  constructor(
    target: Target,
    readonly wire: Wire,
    readonly samples: Samples,
  ) {
    this.target = { ...target };
  }

  async send(req: WireRequest): Promise<WireResponse> {
    const res = await this.wire.send(req);
    if (req.accepts) {
      if (res.status === 401 || res.status === 403) {
        const licenseId = req.accepts === 'run' ? this.target.credentials.licenseId : (this.target.zeroCreditLicense?.licenseId ?? '?');
        throw new NotRunError(credentialsRefused(res.status, req.accepts, licenseId));
      }
      if (req.accepts === 'run') this.credentialsProven = true;
    }
    // Only the run's own license counts for the budget: a zero-credit license's 0 is not a fall.
    const credits = parseCredits(res.headers[HEADER.creditsRemaining]);
    if (res.status === 200 && credits !== undefined && req.headers?.[HEADER.licenseId] === this.target.credentials.licenseId) this.creditsSeen.push(credits);
    return res;
  }

  /**
   * What the run needs made on the target before its cases: with `makeZeroCreditLicense`, a
   * license without credits, allowed from wherever the run's license is, for the 402 cases.
   */
  async prepare(): Promise<void> {
    const { admin } = this.target;
    if (!admin || !this.target.makeZeroCreditLicense || this.target.zeroCreditLicense) return;
    let made;
    try {
      const { allowedIps } = await admin.license(this.target.credentials.licenseId);
      made = await admin.createLicense({ credits: 0, allowedIps, ttlSeconds: MADE_LICENSE_TTL_SECONDS });
    } catch (error) {
      const reason = `the suite could not make the zero-credit license for the 402 cases through the admin API: ${(error as Error).message}`;
      throw new NotRunError(reason.replace(/\s+/g, ' '), { cause: error });
    }
    this.target.zeroCreditLicense = { licenseId: made.licenseId, apiKey: made.apiKey };
    this.#cleanups.set(`license ${made.licenseId}`, () => admin.deleteLicense(made.licenseId));
  }

  /** Arms a fault through the admin API; the run removes it at its end if the case did not. */
  async arm(spec: FaultSpec): Promise<ArmedByRun> {
    const admin = this.target.admin;
    if (!admin) throw new Error('This case needs the admin API; its plan should have skipped it.');
    const fault = await admin.armFault(spec);
    const key = `fault ${fault.id}`;
    const remove = async () => {
      this.#cleanups.delete(key);
      // A fault that fired its count is gone already.
      await admin.removeFault(fault.id).catch((error: unknown) => {
        if (!(error instanceof MockAdminError && error.status === 404)) throw error;
      });
    };
    this.#cleanups.set(key, remove);
    return { id: fault.id, disarm: remove };
  }

  /** Removes what the run made, newest first; what could not be removed is returned, in words. */
  async cleanUp(): Promise<string[]> {
    const left: string[] = [];
    for (const [what, undo] of [...this.#cleanups.entries()].reverse()) {
      try {
        await undo();
      } catch (error) {
        left.push(`${what} (${(error as Error).message})`);
      }
      this.#cleanups.delete(what);
    }
    return left;
  }

  /** The one paid answer of each kind, made the first time a case asks: its cost is shared. */
  paid(kind: 'png' | 'mixed'): Promise<WireResponse> {
    let answer = this.#paid.get(kind);
    if (!answer) {
      const { licenseId, apiKey } = this.target.credentials;
      const extra: FormPart[] = kind === 'mixed' ? [{ name: 'includeCroppedImage', value: 'true' }] : [];
      answer = this.send({ ...vendorRequest(licenseId, apiKey, this.samples.jpeg, extra), accepts: 'run' });
      this.#paid.set(kind, answer);
      this.paidOrder.push(kind);
    }
    return answer;
  }
}

/** What one case sees: the run's state, and verdicts bound to the case's rule and kind. */
export class CaseContext {
  constructor(
    readonly run: RunState,
    readonly self: { readonly id: string; readonly rule: string; readonly kind: RuleKind },
  ) {}

  get target(): Target {
    return this.run.target;
  }

  get samples(): Samples {
    return this.run.samples;
  }

  get isMock(): boolean {
    return this.run.target.kind === 'mock';
  }

  send(req: WireRequest): Promise<WireResponse> {
    return this.run.send(req);
  }

  /** The vendor's request with this run's license and the sample JPEG, changed as a case needs. */
  vendor(change: { image?: Uint8Array; apiKey?: string; licenseId?: string; extra?: FormPart[]; localAddress?: string } = {}): WireRequest {
    const { licenseId, apiKey } = this.run.target.credentials;
    const req = vendorRequest(change.licenseId ?? licenseId, change.apiKey ?? apiKey, change.image ?? this.samples.jpeg, change.extra ?? []);
    if (change.localAddress) req.localAddress = change.localAddress;
    return req;
  }

  /**
   * The vendor's request with the run's own credentials, which the target is expected to accept
   * (whatever else it then refuses): a 401 or 403 to it stops the run as the caller's mistake.
   */
  accepted(change: { image?: Uint8Array; extra?: FormPart[] } = {}): WireRequest {
    return { ...this.vendor(change), accepts: 'run' };
  }

  paid(kind: 'png' | 'mixed'): Promise<WireResponse> {
    return this.run.paid(kind);
  }

  /** Arms a fault through the admin API, removed by `disarm()` (or at the run's end). */
  arm(spec: FaultSpec): Promise<ArmedByRun> {
    return this.run.arm(spec);
  }

  /** The run license's last Credits-Remaining seen on a 200, if any. */
  lastCredits(): number | undefined {
    return this.run.creditsSeen.at(-1);
  }

  /** Records what the target did, for `--record` and `beia mock --profile`. */
  observe(key: string, value: unknown): void {
    this.run.observations[key] = value;
    this.run.observedBy[key] = this.self.id;
  }

  /**
   * The verdict on a check, by the case's kind: a documented rule passes or fails anywhere; a
   * mock default passes or fails against the mock and is only observed elsewhere; an unknown is
   * always observed. `got` says what came back, in words.
   */
  /** What came back is neither a pass nor a broken rule: recorded as seen. */
  observed(got: string): CaseResult {
    return { status: 'observed', message: got };
  }

  verdict(ok: boolean, expected: string, got: string): CaseResult {
    const { kind, rule } = this.self;
    if (kind === 'unknown' || (kind === 'mock-default' && !this.isMock)) return { status: 'observed', message: got };
    if (ok) return { status: 'pass', message: got };
    return { status: 'fail', message: `${rule}: expected ${expected}; got ${got}` };
  }
}

/** A response in a few words, for messages: status, a header or two, and the start of the body. */
export function describeResponse(res: WireResponse, headers: string[] = []): string {
  const shown = headers.map((name) => `${name}: ${res.headers[name.toLowerCase()] ?? '(absent)'}`);
  const type = res.headers['content-type'] ?? '(no content type)';
  return [`${res.status}`, type, ...shown].join(', ');
}
