import { DOCUMENTED_STATUS_CODES, HEADER } from '../../contract/index.js';
import { ApiError } from '../http/api-error.js';
import { ANSWER_LOSING_FAULTS, type FiredFault } from './model.js';

/** The values `X-Beia-Mock-Scenario` accepts: each documented error status (D7). */
export const SCENARIOS = Object.keys(DOCUMENTED_STATUS_CODES);

/** The faults the header can also ask for, on this request only, after every check has passed. */
export const SCENARIO_FAULTS = ['latency', 'reset', 'truncate', 'hang'] as const;

const ALLOWED = `${SCENARIOS.join(', ')}, or a fault: reset, truncate or hang (each with an optional "; phase=after"), latency; ms=N`;

/**
 * A fault asked for by `X-Beia-Mock-Scenario` for this one request: `reset`, `truncate`, `hang`,
 * each optionally `; phase=after` (charged, then the answer is lost), or `latency; ms=500`.
 * Unlike a status scenario, the request goes through every check first, as with an armed fault.
 * Undefined when the value names no fault; an error when it names one badly.
 *
 * @example
 * ```ts
 * scenarioFault('reset; phase=after'); // { fault: { type: 'reset', phase: 'after', ... } }
 * ```
 */
export function scenarioFault(value: string, maxLatencyMs = 120_000): { fault: FiredFault } | { error: ApiError } | undefined {
  const [head = '', ...params] = value.split(';').map((piece) => piece.trim());
  const type = head.toLowerCase();
  if (!(SCENARIO_FAULTS as readonly string[]).includes(type)) return undefined;
  const fault: FiredFault = { id: 'scenario', type: type as FiredFault['type'], count: 0, fired: 1 };
  const bad = (what: string) => ({
    error: new ApiError('invalid_scenario', `${HEADER.mockScenario} is "${value.slice(0, 60)}": ${what}. Allowed values are ${ALLOWED}.`),
  });
  for (const param of params) {
    const [key = '', raw = ''] = param.split('=').map((piece) => piece.trim().toLowerCase());
    if (key === 'phase' && ANSWER_LOSING_FAULTS.has(type) && (raw === 'after' || raw === 'before')) fault.phase = raw;
    else if (key === 'ms' && type === 'latency' && /^\d{1,9}$/.test(raw)) {
      // One bound for every held answer: faults.maxHangMs, as for an armed hang or latency.
      if (Number(raw) > maxLatencyMs) return bad(`ms=${raw} is over faults.maxHangMs (${maxLatencyMs} ms), the longest the mock holds an answer`);
      fault.latencyMs = Number(raw);
    } else return bad(`"${param.slice(0, 30)}" is not a parameter of ${type}`);
  }
  if (type === 'latency' && fault.latencyMs === undefined) return bad('latency needs its time, as "latency; ms=500"');
  return { fault };
}

const MESSAGES: Record<string, string> = {
  '400': 'Missing or invalid parameters.',
  '401': 'Invalid license.',
  '402': 'No credits remaining.',
  '403': 'This IP is not authorised for the license.',
  '415': 'Invalid file.',
  '429': 'Too many images being processed, please try again later.',
  '500': 'Internal server error.',
};

/**
 * The error a scenario header asks for, decoded and validated before use. An unknown value is
 * itself a 400 that lists the allowed ones. Nothing in the store changes either way.
 *
 * @example
 * ```ts
 * scenarioError('429', 1).status; // 429, with Retry-After: 1
 * ```
 */
export function scenarioError(value: string, retryAfterSeconds: number, source: string = HEADER.mockScenario): ApiError {
  const status = value.trim();
  const code = (DOCUMENTED_STATUS_CODES as Record<string, (typeof DOCUMENTED_STATUS_CODES)[keyof typeof DOCUMENTED_STATUS_CODES] | undefined>)[status];
  if (!code) {
    return new ApiError(
      'invalid_scenario',
      `${source} is "${value.slice(0, 40)}"; allowed values are ${source === HEADER.mockScenario ? ALLOWED : SCENARIOS.join(', ')}. Remove the header for a normal answer.`,
    );
  }
  const headers: Record<string, string> = status === '429' ? { 'Retry-After': String(retryAfterSeconds) } : {};
  // "Forced by X-Beia-Mock-Scenario: 429. Too many ..." or "Forced by Prefer: code=429. Too many ...".
  const label = source === HEADER.mockScenario ? `X-Beia-Mock-Scenario: ${status}` : source;
  return new ApiError(code, `Forced by ${label}.${MESSAGES[status] ? ` ${MESSAGES[status]}` : ''}`, headers);
}

/**
 * RFC 7240 `Prefer: code=429`, as Prism's users send it: the same as `X-Beia-Mock-Scenario: 429`.
 * Any other preference is a 400 that names the one the mock knows.
 *
 * @example
 * ```ts
 * preferredScenario('code=429'); // { value: '429' }
 * ```
 */
export function preferredScenario(header: string): { value: string } | { error: ApiError } {
  const preferences = header
    .split(',')
    .map((preference) => preference.split(';')[0]!.trim())
    .filter((preference) => preference !== '');
  const unknown = preferences.find((preference) => !/^code\s*=/i.test(preference));
  const codes = preferences
    .filter((preference) => /^code\s*=/i.test(preference))
    .map((preference) => preference.replace(/^code\s*=\s*/i, '').replace(/^"(.*)"$/, '$1'));
  if (unknown !== undefined || codes.length !== 1 || !SCENARIOS.includes(codes[0]!)) {
    return {
      error: new ApiError(
        'invalid_scenario',
        `Prefer is "${header.slice(0, 60)}"; the mock knows one preference, code=STATUS with STATUS one of ${SCENARIOS.join(', ')} (Prefer: code=429). Remove the header for a normal answer.`,
      ),
    };
  }
  return { value: codes[0]! };
}

/**
 * The answer a request forces with `X-Beia-Mock-Scenario` (which wins) or `Prefer: code=`, with
 * what the journal records as its scenario: an error answered at once, or a fault for this request
 * (see {@link scenarioFault}); undefined when it forces none.
 */
export function forcedScenario(
  scenarioHeader: string | undefined,
  preferHeader: string | undefined,
  retryAfterSeconds: number,
  maxLatencyMs?: number,
): { scenario: string; error: ApiError } | { scenario: string; fault: FiredFault } | undefined {
  if (scenarioHeader !== undefined) {
    const scenario = scenarioHeader.slice(0, 60);
    const asFault = scenarioFault(scenarioHeader, maxLatencyMs);
    if (asFault) return { scenario, ...asFault };
    return { scenario, error: scenarioError(scenarioHeader, retryAfterSeconds) };
  }
  if (preferHeader === undefined) return undefined;
  const preferred = preferredScenario(preferHeader);
  const error = 'error' in preferred ? preferred.error : scenarioError(preferred.value, retryAfterSeconds, `Prefer: code=${preferred.value}`);
  return { scenario: `Prefer: ${preferHeader.slice(0, 60)}`, error };
}
