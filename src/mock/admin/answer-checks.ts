import { journalEntryProblem } from '../store/journal-entry-check.js';

/**
 * Hand checks of what a mock's admin API answers, for {@link MockAdminClient}: each says what is
 * wrong in words (`"credits" is not a whole number of at least 0`), or undefined when the answer
 * has the shape the client's types promise. Fields this version does not know are let through (a
 * newer mock's). No dependency: the admin client is part of the light entry point (`light.ts`).
 */
export type AnswerCheck = (value: unknown) => string | undefined;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown): boolean => Number.isSafeInteger(value) && (value as number) >= 0;
const isNumber = (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value);

/** The first field of `value` named in `fields` whose value fails its test, in words. */
function fieldsProblem(value: unknown, fields: Record<string, [(field: unknown) => boolean, string]>, optional: readonly string[] = []): string | undefined {
  if (!isObject(value)) return 'it is not an object';
  for (const [name, [test, what]] of Object.entries(fields)) {
    if (value[name] === undefined && optional.includes(name)) continue;
    if (!test(value[name])) return `"${name}" is not ${what}`;
  }
  return undefined;
}

const LICENSE_FIELDS: Record<string, [(field: unknown) => boolean, string]> = {
  licenseId: [(v) => typeof v === 'string' && v !== '', 'a non-empty string'],
  apiKey: [(v) => typeof v === 'string', 'a string'],
  credits: [isCount, 'a whole number of at least 0'],
  maxConcurrent: [isCount, 'a whole number of at least 0'],
  allowedIps: [(v) => Array.isArray(v) && v.every((ip) => typeof ip === 'string'), 'a list of strings'],
  inFlight: [isCount, 'a whole number of at least 0'],
  expiresAt: [(v) => typeof v === 'string' && !Number.isNaN(Date.parse(v)), 'an ISO time'],
};

/** A license as the admin API shows it (`GET /licenses/:id`). */
export const licenseProblem: AnswerCheck = (value) => fieldsProblem(value, LICENSE_FIELDS, ['expiresAt']);

/** A license made for one test (`POST /licenses`): it has its key and when it goes away. */
export const createdLicenseProblem: AnswerCheck = (value) => fieldsProblem(value, LICENSE_FIELDS);

/** A list, each item checked by `item`; the first bad one named by its index. */
export function listOf(item: AnswerCheck): AnswerCheck {
  return (value) => {
    if (!Array.isArray(value)) return 'it is not a list';
    for (const [index, entry] of value.entries()) {
      const problem = item(entry);
      if (problem) return `[${index}]: ${problem}`;
    }
    return undefined;
  };
}

export const journalProblem: AnswerCheck = listOf(journalEntryProblem);

/** An armed fault (`GET /faults`, `POST /faults`). */
export const faultProblem: AnswerCheck = (value) =>
  fieldsProblem(
    value,
    {
      id: [(v) => typeof v === 'string' && v !== '', 'a non-empty string'],
      type: [(v) => typeof v === 'string' && v !== '', 'a fault type'],
      fired: [isCount, 'a whole number of at least 0'],
      types: [(v) => Array.isArray(v) && v.every((type) => typeof type === 'string'), 'a list of fault types'],
      licenseId: [(v) => typeof v === 'string', 'a string'],
      count: [isCount, 'a whole number of at least 0'],
      probability: [isNumber, 'a number'],
      seed: [isCount, 'a whole number of at least 0'],
      latencyMs: [isNumber, 'a number'],
      phase: [(v) => v === 'before' || v === 'after', '"before" or "after"'],
    },
    ['types', 'licenseId', 'count', 'probability', 'seed', 'latencyMs', 'phase'],
  );

/** `GET /health`. */
export const healthProblem: AnswerCheck = (value) =>
  fieldsProblem(
    value,
    {
      status: [(v) => typeof v === 'string', 'a string'],
      version: [(v) => typeof v === 'string', 'a string'],
      node: [(v) => typeof v === 'string', 'a string'],
      store: [
        (v) => fieldsProblem(v, { kind: [(f) => typeof f === 'string', ''], status: [(f) => typeof f === 'string', ''] }) === undefined,
        'an object with "kind" and "status"',
      ],
      inFlight: [(v) => v === null || isCount(v), 'a whole number of at least 0, or null'],
      uploads: [
        (v) => fieldsProblem(v, { receiving: [isCount, ''], bufferedBytes: [isCount, ''] }) === undefined,
        'an object with "receiving" and "bufferedBytes"',
      ],
      cache: [
        (v) => isObject(v) && ['entries', 'bytes', 'maxBytes', 'hits', 'misses'].every((name) => isCount(v[name])),
        'an object with "entries", "bytes", "maxBytes", "hits" and "misses"',
      ],
      recordings: [(v) => isObject(v) && (v.mode === 'record' || v.mode === 'replay'), 'an object with "mode" "record" or "replay"'],
    },
    ['recordings'],
  );

/** `POST /verify`: the result, its near misses each a journal entry with the fields that differed. */
export const verifyResultProblem: AnswerCheck = (value) => {
  const problem = fieldsProblem(value, {
    ok: [(v) => typeof v === 'boolean', 'true or false'],
    count: [isCount, 'a whole number of at least 0'],
    expected: [(v) => typeof v === 'string', 'a string'],
    nearMisses: [(v) => Array.isArray(v), 'a list'],
  });
  if (problem) return problem;
  const misses = listOf((miss) => {
    if (!isObject(miss)) return 'it is not an object';
    const entry = journalEntryProblem(miss.entry);
    if (entry) return `"entry": ${entry}`;
    if (!Array.isArray(miss.differences) || !miss.differences.every((d) => isObject(d) && typeof d.field === 'string')) {
      return '"differences" is not a list of fields';
    }
    return undefined;
  })((value as Json).nearMisses);
  return within('nearMisses', misses);
};

/** An answer that confirms one thing: `{ "cleared": true }`, `{ "deleted": "<id>" }`. */
export function confirmationProblem(key: string, test: (value: unknown) => boolean, what: string): AnswerCheck {
  return (value) => fieldsProblem(value, { [key]: [test, what] });
}

/** `POST /reset`: `{ "reset": true, "licenses": [...] }`. */
export const resetProblem: AnswerCheck = (value) =>
  fieldsProblem(value, { reset: [(v) => v === true, 'true'] }) ?? within('licenses', listOf(licenseProblem)((value as Json).licenses));

/** A problem inside the field `name`, named by its path: `"licenses"[2]: ...` or `"licenses": it is not a list`. */
function within(name: string, problem: string | undefined): string | undefined {
  if (problem === undefined) return undefined;
  return problem.startsWith('[') ? `"${name}"${problem}` : `"${name}": ${problem}`;
}
