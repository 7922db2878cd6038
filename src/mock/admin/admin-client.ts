import { request, type Dispatcher } from 'undici';
import type { CallCount, CallPattern, VerifyResult } from './verify.js';
import type { LicenseConfig } from '../config/index.js';
import type { ArmedFault, FaultSpec, JournalEntry, LicenseState } from '../store/index.js';
import {
  confirmationProblem,
  createdLicenseProblem,
  faultProblem,
  healthProblem,
  journalProblem,
  licenseProblem,
  listOf,
  resetProblem,
  verifyResultProblem,
  type AnswerCheck,
} from './answer-checks.js';

export interface MockAdminClientOptions {
  /** The admin token (`--admin-token`, `BEIA_MOCK_ADMIN_TOKEN`, or the one the mock printed). */
  token?: string;
  /** An undici dispatcher, e.g. an `Agent` of your own. */
  dispatcher?: Dispatcher;
  /** Per call, until the whole answer is in; 10 000 ms by default. */
  timeoutMs?: number;
}

/** A license as the admin API shows it: the key is always masked. */
export type AdminLicense = Omit<LicenseState, 'apiKey'> & { apiKey: '***' };

/** What `GET /__admin/health` says. */
export interface MockHealth {
  /** `ok`, or `degraded` while the store cannot be reached, its last write failed or it lost its state. */
  status: string;
  version: string;
  /** The Node the mock runs on, as `process.version` says it: `v24.22.3`. */
  node: string;
  /**
   * The store: its kind (`memory`, `file`, `redis` or a store's own), its status, why it is
   * degraded, and for the file and Redis stores the journal entries waiting to be written, those
   * given up, and how often its state was found gone.
   */
  store: { kind: string; status: string; reason?: string; journalPending?: number; journalDropped?: number; stateLost?: number };
  /** Images in processing; null while the store cannot say. */
  inFlight: number | null;
  uploads: { receiving: number; bufferedBytes: number };
  cache: { entries: number; bytes: number; maxBytes: number; hits: number; misses: number };
  /** Present when the mock records the live API (`--record-from`) or replays recordings (`--recordings`, `strict` with `--recordings-strict`). */
  recordings?: { mode: 'record' } | { mode: 'replay'; strict: boolean };
}

/** Settings of a license made for one test; each has a default. */
export interface CreateLicenseOptions {
  /** 100 by default. */
  credits?: number;
  /** 2 by default. */
  maxConcurrent?: number;
  /** The mock's default allowlist by default (loopback, or the private ranges beyond loopback). */
  allowedIps?: string[];
  /** 3600 by default, at most 7 days. */
  ttlSeconds?: number;
}

/** A license made for one test, with its key and when it goes away. */
export type CreatedLicense = LicenseState & { expiresAt: string };

/**
 * What the admin API refused, with its status and the mock's error code; or, with status 0 and
 * code `admin_unreachable`, a call that got no answer (nothing listening, a timeout).
 */
export class MockAdminError extends Error {
  override readonly name = 'MockAdminError';
  readonly code: string;

  constructor(
    message: string,
    readonly status: number,
    code: string | undefined,
  ) {
    super(message);
    this.code = code ?? 'admin_unexpected_answer';
  }
}

/**
 * A client of a beia mock's admin API (README, "Admin API"): licenses, credits, the journal,
 * faults and reset, over HTTP, so it works with a mock in this process, in another one, or in a
 * container.
 *
 * @example
 * ```ts
 * const admin = new MockAdminClient('http://127.0.0.1:8080', { token: process.env.BEIA_MOCK_ADMIN_TOKEN });
 * await admin.setCredits('1234', 0);                       // the next request gets a 402
 * await admin.armFault({ type: 'error', count: 1 });        // the next request gets a 500
 * const [last] = await admin.journal({ limit: 1 });         // what the mock saw last
 * ```
 */
/** A {@link MockAdminClient.verify} that did not hold: what was expected, what came, and the nearest misses. */
export class MockVerificationError extends Error {
  readonly result: VerifyResult;
  constructor(pattern: CallPattern, result: VerifyResult) {
    const misses = result.nearMisses.map((miss) => {
      const { entry } = miss;
      const what = miss.differences.map((d) => `${d.field} ${JSON.stringify(d.actual)} (not ${JSON.stringify(d.expected)})`).join(', ');
      return `  #${entry.seq} ${entry.time} ${entry.method} ${entry.path} ${entry.status}${entry.code ? ` ${entry.code}` : ''}: ${what}`;
    });
    super(
      [
        `Expected ${result.expected} request(s) matching ${JSON.stringify(pattern)}, the mock saw ${result.count}.`,
        ...(misses.length > 0 ? ['Nearest misses:', ...misses] : ['No request came close.']),
      ].join('\n'),
    );
    this.name = 'MockVerificationError';
    this.result = result;
  }
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const isText = (value: unknown): boolean => typeof value === 'string';
const isTrue = (value: unknown): boolean => value === true;

export class MockAdminClient {
  readonly #base: string;
  readonly #token: string | undefined;
  readonly #dispatcher: Dispatcher | undefined;
  readonly #timeoutMs: number;

  /** @param url the mock's base URL (its origin), e.g. `http://127.0.0.1:8080`. */
  constructor(url: string, options: MockAdminClientOptions = {}) {
    this.#base = `${new URL(url).origin}/__admin`;
    this.#token = options.token;
    this.#dispatcher = options.dispatcher;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** `{ status: 'ok', version, inFlight, uploads, cache }`; needs no token. */
  health(): Promise<MockHealth> {
    return this.#expect('GET', '/health', undefined, healthProblem, 'the health of a beia mock');
  }

  /**
   * A license of its own for one test or one worker: a fresh id and key (the only time the admin
   * API shows a key), 100 credits unless given, gone after `ttlSeconds` (an hour by default) or
   * on {@link deleteLicense}. Tests that run in parallel each take one and never see each
   * other's credits or journal.
   *
   * @example
   * ```ts
   * const { licenseId, apiKey } = await admin.createLicense({ credits: 5, ttlSeconds: 600 });
   * ```
   */
  createLicense(options: CreateLicenseOptions = {}): Promise<CreatedLicense> {
    return this.#expect('POST', '/licenses', options, createdLicenseProblem, 'a license made for a test');
  }

  /** Removes a license with its journal entries and the faults armed for it. */
  deleteLicense(licenseId: string): Promise<{ deleted: string }> {
    return this.#expect(
      'DELETE',
      `/licenses/${encodeURIComponent(licenseId)}`,
      undefined,
      confirmationProblem('deleted', isText, 'the license id'),
      'the license deleted',
    );
  }

  licenses(): Promise<AdminLicense[]> {
    return this.#expect('GET', '/licenses', undefined, listOf(licenseProblem), 'a list of licenses');
  }

  license(licenseId: string): Promise<AdminLicense> {
    return this.#expect('GET', `/licenses/${encodeURIComponent(licenseId)}`, undefined, licenseProblem, 'a license');
  }

  /** Changes some settings of a license: credits, allowedIps, maxConcurrent, apiKey. */
  updateLicense(licenseId: string, patch: Partial<Omit<LicenseConfig, 'licenseId'>>): Promise<AdminLicense> {
    return this.#expect('PATCH', `/licenses/${encodeURIComponent(licenseId)}`, patch, licenseProblem, 'a license');
  }

  /** Sets a license's credits, e.g. 0 for a 402 on its next request. */
  setCredits(licenseId: string, credits: number): Promise<AdminLicense> {
    return this.updateLicense(licenseId, { credits });
  }

  /** Adds a license, or replaces the one with that id. */
  putLicense(license: Pick<LicenseConfig, 'licenseId' | 'apiKey'> & Partial<LicenseConfig>): Promise<AdminLicense> {
    const { licenseId, ...rest } = license;
    return this.#expect('PUT', `/licenses/${encodeURIComponent(licenseId)}`, rest, licenseProblem, 'a license');
  }

  /** Back to the licenses of the mock's config; the journal and faults are dropped. */
  reset(): Promise<{ reset: true; licenses: AdminLicense[] }> {
    return this.#expect('POST', '/reset', undefined, resetProblem, 'the licenses after a reset');
  }

  /** The entries, oldest first: the newest `limit`, of one license when given, only those that came too early with `retryTooEarly`. */
  journal(filter: { licenseId?: string; limit?: number; retryTooEarly?: true } = {}): Promise<JournalEntry[]> {
    const query = new URLSearchParams();
    if (filter.licenseId !== undefined) query.set('licenseId', filter.licenseId);
    if (filter.retryTooEarly) query.set('retryTooEarly', 'true');
    if (filter.limit !== undefined) query.set('limit', String(filter.limit));
    return this.#expect('GET', `/journal${query.size > 0 ? `?${query}` : ''}`, undefined, journalProblem, 'a list of journal entries');
  }

  clearJournal(): Promise<{ cleared: true }> {
    return this.#expect('DELETE', '/journal', undefined, confirmationProblem('cleared', isTrue, 'true'), 'the journal cleared');
  }

  faults(): Promise<ArmedFault[]> {
    return this.#expect('GET', '/faults', undefined, listOf(faultProblem), 'a list of armed faults');
  }

  /** Arms a fault for the next `count` requests (1 by default) or with a `probability`. */
  armFault(spec: FaultSpec): Promise<ArmedFault> {
    return this.#expect('POST', '/faults', spec, faultProblem, 'an armed fault');
  }

  removeFault(id: string): Promise<{ removed: string }> {
    return this.#expect('DELETE', `/faults/${encodeURIComponent(id)}`, undefined, confirmationProblem('removed', isText, 'the fault id'), 'the fault removed');
  }

  clearFaults(): Promise<{ cleared: true }> {
    return this.#expect('DELETE', '/faults', undefined, confirmationProblem('cleared', isTrue, 'true'), 'the faults cleared');
  }

  /**
   * Asserts that the journal holds the right number of requests matching `pattern`: resolves
   * with the result when it does, throws a {@link MockVerificationError} that prints the nearest
   * misses when it does not. With a `licenseId`, only that license's requests count, so parallel
   * tests with licenses of their own verify apart.
   *
   * @example
   * ```ts
   * await admin.verify({ licenseId, status: 200 }, { exactly: 2 });  // two paid answers, no more
   * await admin.verify({ licenseId, status: 429 }, { never: true });
   * ```
   */
  async verify(pattern: CallPattern, count: CallCount): Promise<VerifyResult> {
    const result = await this.#expect<VerifyResult>('POST', '/verify', { pattern, count }, verifyResultProblem, 'the result of a verification');
    if (!result.ok) throw new MockVerificationError(pattern, result);
    return result;
  }

  /** Any admin call; throws a {@link MockAdminError} for an answer that is not a 2xx. */
  async call<T>(method: Method, path: string, body?: unknown): Promise<T> {
    return (await this.#send(method, path, body)).json as T;
  }

  /**
   * A call whose 2xx answer must have the shape `check` knows: anything else (another server at
   * that address, a mock of another version, a proxy's page) is a {@link MockAdminError} that
   * names the route and what was wrong, never a value of the wrong type.
   */
  async #expect<T>(method: Method, path: string, body: unknown, check: AnswerCheck, what: string): Promise<T> {
    const { statusCode, json, text } = await this.#send(method, path, body);
    const problem = json === undefined ? `it is not JSON (${JSON.stringify(text.slice(0, 80))})` : check(json);
    if (problem === undefined) return json as T;
    throw new MockAdminError(
      `The mock's admin API answered ${method} ${this.#base}${path} with ${statusCode} but not ${what}: ${problem}. Is a beia mock of this beia-kit's version listening there? GET ${this.#base}/health names the version it runs.`,
      statusCode,
      'admin_unexpected_answer',
    );
  }

  async #send(method: Method, path: string, body: unknown): Promise<{ statusCode: number; json: unknown; text: string }> {
    const headers: Record<string, string> = {};
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let statusCode: number;
    let text: string;
    try {
      const res = await request(`${this.#base}${path}`, {
        method,
        headers,
        signal: AbortSignal.timeout(this.#timeoutMs),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(this.#dispatcher ? { dispatcher: this.#dispatcher } : {}),
      });
      statusCode = res.statusCode;
      text = await res.body.text();
    } catch (error) {
      const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${this.#timeoutMs} ms` : (error as Error).message;
      throw new MockAdminError(
        `Failed to call the mock's admin API (${method} ${this.#base}${path}): ${reason}. Is the mock running at that address?`,
        0,
        'admin_unreachable',
      );
    }
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (statusCode >= 200 && statusCode < 300) return { statusCode, json, text };
    const error = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new MockAdminError(
      `Failed to call the mock's admin API (${method} ${path}): ${statusCode} ${error?.message ?? text.slice(0, 200)}`,
      statusCode,
      error?.code,
    );
  }
}
