import { readFile, writeFile } from 'node:fs/promises';
import { CHECK_NAMES, CREDITS_STATUSES, tellsCreditsOn, validateConfig, type CheckName, type CreditsStatus, type MockConfig } from '../mock/light.js';

/** What a run saw of the unknowns, as `--record` writes it. */
export interface ObservationFile {
  version: 1;
  target: string;
  recordedAt: string;
  observations: Record<string, unknown>;
  /** The case that recorded each observation (absent in files of older versions). */
  cases?: Record<string, string>;
}

export async function writeObservations(
  file: string,
  target: string,
  observations: Record<string, unknown>,
  cases: Record<string, string> = {},
): Promise<void> {
  const content: ObservationFile = { version: 1, target, recordedAt: new Date().toISOString(), observations, cases };
  await writeFile(file, `${JSON.stringify(content, null, 2)}\n`);
}

export async function readObservations(file: string): Promise<ObservationFile> {
  let parsed: Partial<ObservationFile>;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<ObservationFile>;
  } catch (error) {
    throw new Error(`Failed to read observations ${file}: ${(error as Error).message}. Write one with beia conformance --record ${file}.`, { cause: error });
  }
  if (parsed.version !== 1 || typeof parsed.observations !== 'object' || parsed.observations === null) {
    throw new Error(`Failed to read observations ${file}: it is not a file written by beia conformance --record (no "version": 1 and "observations").`);
  }
  return parsed as ObservationFile;
}

export interface Drift {
  /** The observation's key, with the path inside its value when one field of it changed (`creditsRemaining.onErrors.415`). */
  key: string;
  before: unknown;
  after: unknown;
  /**
   * `behaviour`: a status, a header, a label, a rule; `timing`: a time beyond the tolerance, or
   * the counts of a burst the suite did not pace (on a target it does not control, a race);
   * `coverage`: observed in one record only (a case skipped in one run, or new in this version of
   * beia-kit). Only `behaviour` is drift; the others are reported apart.
   */
  kind: 'behaviour' | 'timing' | 'coverage';
  /** The case that observed it, when the files say. */
  case?: string;
}

/** Observations that are times: compared with a tolerance, reported apart. */
const TIMING_KEYS = new Set(['latencyMs']);

/**
 * What changed between two observation files, field by field: each leaf of an observation whose
 * value differs, appeared or vanished. Times are drift only beyond a tolerance (see {@link sameTime});
 * counts of parallel answers are compared as counts, never as an order, and as timing when the
 * suite did not pace the burst (`heldMs: null`: a target it does not control).
 *
 * @example
 * ```ts
 * compareObservations(lastRelease.observations, today.observations); // [{ key: 'errorBody', before: 'json-envelope', after: 'text', kind: 'behaviour' }]
 * ```
 */
export function compareObservations(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  cases: { before?: Record<string, string> | undefined; after?: Record<string, string> | undefined } = {},
): Drift[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const drift: Drift[] = [];
  for (const key of keys) {
    const source = cases.after?.[key] ?? cases.before?.[key];
    const found = (leaf: string, was: unknown, now: unknown, kind: Drift['kind']) =>
      drift.push({ key: leaf, before: was, after: now, kind, ...(source ? { case: source } : {}) });
    if (!(key in before) || !(key in after)) {
      found(key, before[key], after[key], 'coverage');
      continue;
    }
    if (TIMING_KEYS.has(key)) {
      if (!sameTime(before[key], after[key])) found(key, before[key], after[key], 'timing');
      continue;
    }
    if (key === BURST && !(paced(before[key]) && paced(after[key]))) {
      // A burst the suite did not pace is a race: how many won it is the machine's speed, not the target's behaviour.
      diffLeaves(key, legacy(key, before[key]), legacy(key, after[key]), (leaf, was, now) =>
        found(leaf, was, now, racedLeaf(leaf, was, now) ? 'timing' : 'behaviour'),
      );
      continue;
    }
    diffLeaves(key, legacy(key, before[key]), legacy(key, after[key]), (leaf, was, now) => found(leaf, was, now, 'behaviour'));
  }
  return drift;
}

const BURST = 'concurrency.burst';

/** A burst whose slots the suite held a known while (`heldMs`, on a target it controls): its counts are the target's limit. */
function paced(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { heldMs?: unknown }).heldMs === 'number';
}

/**
 * The leaves of a raced burst that tell who won the race: the counts, whether a 429 (and so its
 * Retry-After) came at all, and how the burst was paced. A Retry-After seen on both sides that
 * changed is still behaviour.
 */
function racedLeaf(leaf: string, was: unknown, now: unknown): boolean {
  const field = leaf.slice(BURST.length + 1);
  if (field === 'succeeded' || field === 'refused429' || field === 'heldMs' || field.startsWith('statuses.')) return true;
  return field === 'retryAfter' && (was === null || was === undefined || now === null || now === undefined);
}

/** A value as this version records it: a record of an older beia-kit listed the burst's statuses in arrival order, now counted. */
function legacy(key: string, value: unknown): unknown {
  if (key !== 'concurrency.burst' || typeof value !== 'object' || value === null) return value;
  const statuses = (value as { statuses?: unknown }).statuses;
  if (!Array.isArray(statuses)) return value;
  const counts: Record<string, number> = {};
  for (const status of statuses.map(String).sort()) counts[status] = (counts[status] ?? 0) + 1;
  return { ...value, statuses: counts };
}

/**
 * Calls `report` for each leaf that differs: objects are walked key by key, anything else (arrays
 * too) compared whole. An object on one side only (the field appeared or vanished) is walked too,
 * so each of its leaves is reported by its own path and classified as a changed leaf there would be;
 * an empty one is reported where it is.
 */
function diffLeaves(path: string, a: unknown, b: unknown, report: (path: string, a: unknown, b: unknown) => void): void {
  const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
  const walked = (value: unknown): value is Record<string, unknown> => isObject(value) && Object.keys(value).length > 0;
  if ((isObject(a) && isObject(b)) || (walked(a) && b === undefined) || (a === undefined && walked(b))) {
    const sideA = isObject(a) ? a : {};
    const sideB = isObject(b) ? b : {};
    for (const key of [...new Set([...Object.keys(sideA), ...Object.keys(sideB)])].sort()) diffLeaves(`${path}.${key}`, sideA[key], sideB[key], report);
    return;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) report(path, a, b);
}

/** Timings vary from run to run: a time is drift only when it doubles or halves, and by 100 ms or more. */
function sameTime(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') {
    const ratio = Math.max(a, b) / Math.max(1, Math.min(a, b));
    return ratio < 2 || Math.abs(a - b) < 100;
  }
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Which check answered when two failed at once, from the M1 observations. */
const ORDER_PAIRS: Record<string, { first: CheckName; second: CheckName; firstStatus: number; secondStatus: number }> = {
  'order.form-vs-auth': { first: 'form', second: 'auth', firstStatus: 400, secondStatus: 401 },
  'order.auth-vs-image': { first: 'auth', second: 'image', firstStatus: 401, secondStatus: 415 },
  'order.auth-vs-credits': { first: 'auth', second: 'credits', firstStatus: 401, secondStatus: 402 },
  'order.ip-allowlist-vs-content-type': { first: 'ip-allowlist', second: 'content-type', firstStatus: 403, secondStatus: 400 },
};

/**
 * The mock's config changed to behave as observed (`beia mock --profile FILE`): check order,
 * Credits-Remaining on each error status, part labels and the credits part, error bodies, the
 * License-Id header, booleans (strict, or lenient as true or false), the answer to an unknown
 * license (401 or 403), processing time and the concurrency limit. What was not observed keeps its
 * value; what the mock cannot reproduce is listed in the README ("What a profile cannot reproduce").
 */
export function applyProfile(config: MockConfig, observations: Record<string, unknown>): MockConfig {
  const rules = { ...config.rules };
  const processing = { ...config.processing };
  let licenses = config.licenses;

  // Credits-Remaining per status, as seen: a status not seen keeps what the mock does now.
  const onErrors = (observations['creditsRemaining.onErrors'] ?? {}) as Record<string, unknown>;
  const seenOn = (status: CreditsStatus): unknown => (status === 400 ? undefined : (observations[`creditsRemaining.on${status}`] ?? onErrors[String(status)]));
  const telling = CREDITS_STATUSES.filter((status) => {
    const seen = seenOn(status);
    return typeof seen === 'boolean' ? seen : tellsCreditsOn(rules.creditsRemainingOnErrors, status);
  });
  if (CREDITS_STATUSES.some((status) => typeof seenOn(status) === 'boolean')) {
    const told = CREDITS_STATUSES.filter((status) => status !== 400);
    rules.creditsRemainingOnErrors = told.every((status) => telling.includes(status)) ? true : telling.length === 0 ? false : telling;
  }

  const parts = observations.parts as { names?: unknown[]; contentIds?: unknown[]; creditsFormat?: string } | undefined;
  if (parts) {
    const named = parts.names?.some((n) => n !== null) ?? false;
    const ided = parts.contentIds?.some((n) => n !== null) ?? false;
    if (named || ided) rules.partLabels = named && ided ? 'both' : named ? 'content-disposition' : 'content-id';
    if (parts.creditsFormat === 'text' || parts.creditsFormat === 'json') rules.creditsPartFormat = parts.creditsFormat;
  }

  const body = observations.errorBody;
  if (body === 'json-envelope' || body === 'json') rules.errorBody = 'json';
  else if (body === 'text' || body === 'none') rules.errorBody = body;

  const missingHeader = observations['licenseHeader.missing'];
  if (typeof missingHeader === 'number') rules.requireLicenseHeader = missingHeader !== 200;

  const maybe = observations['booleans.maybe'];
  if (maybe === 400) rules.strictBooleans = true;
  else if (maybe === 'false' || maybe === 'true') {
    rules.strictBooleans = false;
    rules.lenientBooleans = maybe === 'true';
  }

  const unknownLicense = observations['license.unknown'];
  if (unknownLicense === 401 || unknownLicense === 403) rules.unknownLicenseStatus = unknownLicense;

  const latency = observations.latencyMs;
  if (typeof latency === 'number' && latency >= 0) processing.delayMs = Math.round(latency);

  // M7 (slowed down through the admin API) is exact; a burst against a live API is a bound.
  const concurrency = (observations.concurrency ?? observations['concurrency.burst']) as { succeeded?: number; refused429?: number } | undefined;
  if (concurrency?.refused429 && concurrency.succeeded !== undefined) {
    licenses = licenses.map((license) => ({ ...license, maxConcurrent: concurrency.succeeded! }));
  }

  const constraints: Array<[CheckName, CheckName]> = [];
  for (const [key, pair] of Object.entries(ORDER_PAIRS)) {
    const status = observations[key];
    if (status === pair.firstStatus) constraints.push([pair.first, pair.second]);
    else if (status === pair.secondStatus) constraints.push([pair.second, pair.first]);
  }
  rules.checkOrder = orderWith(config.rules.checkOrder, constraints);

  return validateConfig({ ...config, rules, processing, licenses });
}

/**
 * The given order, changed as little as needed so that each [a, b] has a before b: a check that
 * must come earlier moves to just before the one it must precede; nothing else moves. `slot`
 * (which also refuses a license without credits) stays with `credits`. Constraints that contradict
 * each other leave the order as far as it got, after a bounded number of moves.
 */
export function orderWith(order: readonly CheckName[], constraints: Array<[CheckName, CheckName]>): CheckName[] {
  const result = [...order];
  const expanded = constraints.flatMap(([a, b]): Array<[CheckName, CheckName]> =>
    b === 'credits'
      ? [
          [a, 'credits'],
          [a, 'slot'],
        ]
      : a === 'credits'
        ? [
            ['credits', b],
            ['slot', b],
          ]
        : [[a, b]],
  );
  for (let moves = 0; moves < CHECK_NAMES.length * expanded.length + 1; moves++) {
    const broken = expanded.find(([a, b]) => result.indexOf(a) > result.indexOf(b));
    if (!broken) break;
    const [a, b] = broken;
    result.splice(result.indexOf(a), 1);
    result.splice(result.indexOf(b), 0, a);
  }
  return result;
}
