import { describe, expect, it } from 'vitest';
import { forcedScenario, preferredScenario, SCENARIOS, scenarioError, scenarioFault } from './scenario.js';

describe('scenarioFault, a fault for one request', () => {
  it('reads reset, truncate and hang, each with an optional phase, and latency with its time', () => {
    expect(scenarioFault('reset')).toEqual({ fault: { id: 'scenario', type: 'reset', count: 0, fired: 1 } });
    expect(scenarioFault(' Truncate ; phase=AFTER ')).toEqual({ fault: { id: 'scenario', type: 'truncate', count: 0, fired: 1, phase: 'after' } });
    expect(scenarioFault('hang; phase=before')).toMatchObject({ fault: { type: 'hang', phase: 'before' } });
    expect(scenarioFault('latency; ms=500')).toMatchObject({ fault: { type: 'latency', latencyMs: 500 } });
  });

  it('is undefined for a value that names no fault (a status scenario)', () => {
    expect(scenarioFault('429')).toBeUndefined();
    expect(scenarioFault('error')).toBeUndefined();
  });

  it.each([
    ['latency', 'latency needs its time, as "latency; ms=500"'],
    ['latency; ms=abc', '"ms=abc" is not a parameter of latency'],
    ['latency; phase=after', '"phase=after" is not a parameter of latency'],
    ['reset; ms=5', '"ms=5" is not a parameter of reset'],
    ['hang; phase=later', '"phase=later" is not a parameter of hang'],
  ])('refuses %j as an invalid_scenario that lists the allowed values', (value, what) => {
    const answer = scenarioFault(value);
    expect(answer && 'error' in answer ? answer.error : undefined).toMatchObject({ code: 'invalid_scenario', status: 400 });
    const { message } = (answer as { error: Error }).error;
    expect(message).toContain(what);
    expect(message).toContain('Allowed values are 400, 401, 402, 403, 415, 429, 500, or a fault');
  });

  it('holds a latency no longer than faults.maxHangMs', () => {
    expect(scenarioFault('latency; ms=2000', 2000)).toMatchObject({ fault: { latencyMs: 2000 } });
    const over = scenarioFault('latency; ms=2001', 2000);
    expect(over && 'error' in over ? over.error.message : '').toContain('ms=2001 is over faults.maxHangMs (2000 ms)');
  });
});

describe('scenarioError, a forced error', () => {
  it('answers each documented status with its code; a 429 with Retry-After', () => {
    expect(SCENARIOS).toEqual(['400', '401', '402', '403', '415', '429', '500']);
    const busy = scenarioError('429', 3);
    expect(busy).toMatchObject({ code: 'too_many_requests', status: 429, headers: { 'Retry-After': '3' } });
    expect(busy.message).toBe('Forced by X-Beia-Mock-Scenario: 429. Too many images being processed, please try again later.');
    expect(scenarioError(' 402 ', 1)).toMatchObject({ code: 'no_credits', headers: {} });
    expect(scenarioError('500', 1, 'Prefer: code=500').message).toBe('Forced by Prefer: code=500. Internal server error.');
  });

  it('refuses an unknown value with a 400 that lists the allowed ones', () => {
    const error = scenarioError('418', 1);
    expect(error).toMatchObject({ code: 'invalid_scenario', status: 400 });
    expect(error.message).toContain('allowed values are 400, 401, 402, 403, 415, 429, 500, or a fault');
    expect(error.message).toContain('Remove the header for a normal answer.');
  });
});

describe('preferredScenario, RFC 7240 Prefer: code=', () => {
  it('reads one code=STATUS, quoted or not, beside its parameters', () => {
    expect(preferredScenario('code=429')).toEqual({ value: '429' });
    expect(preferredScenario('Code = "402"; foo=bar')).toEqual({ value: '402' });
  });

  it.each(['respond-async', 'code=429, code=500', 'code=418', 'code=429, wait=5', ''])('refuses %j', (header) => {
    const answer = preferredScenario(header);
    expect('error' in answer ? answer.error.message : '').toContain('the mock knows one preference, code=STATUS');
  });
});

describe('forcedScenario', () => {
  it('lets X-Beia-Mock-Scenario win over Prefer, as an error or a fault', () => {
    expect(forcedScenario('401', 'code=500', 1)).toMatchObject({ scenario: '401', error: { code: 'invalid_license' } });
    expect(forcedScenario('reset; phase=after', undefined, 1)).toMatchObject({ scenario: 'reset; phase=after', fault: { type: 'reset', phase: 'after' } });
    expect(forcedScenario('latency; ms=10', undefined, 1, 5)).toMatchObject({ error: { code: 'invalid_scenario' } });
  });

  it('reads Prefer when the header is absent, and forces nothing without either', () => {
    expect(forcedScenario(undefined, 'code=429', 2)).toMatchObject({
      scenario: 'Prefer: code=429',
      error: { code: 'too_many_requests', headers: { 'Retry-After': '2' } },
    });
    expect(forcedScenario(undefined, 'wait=1', 2)).toMatchObject({ scenario: 'Prefer: wait=1', error: { code: 'invalid_scenario' } });
    expect(forcedScenario(undefined, undefined, 1)).toBeUndefined();
  });

  it('keeps at most 60 characters of the value as the journal scenario', () => {
    expect(forcedScenario('x'.repeat(100), undefined, 1)?.scenario).toHaveLength(60);
  });
});
