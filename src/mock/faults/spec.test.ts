import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config/reader.js';
import { MAX_SEED } from './chaos.js';
import { faultKind, readFaultSpec } from './spec.js';

/** The ConfigError `readFaultSpec` throws for `body`: its path and message. */
function refusal(body: unknown, maxLatencyMs?: number): ConfigError {
  try {
    readFaultSpec(body, maxLatencyMs);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`readFaultSpec took ${JSON.stringify(body)}`);
}

describe('readFaultSpec, what it takes', () => {
  it('arms one counted fault by default, and reads 500 as error', () => {
    expect(readFaultSpec({ type: 'reset' })).toEqual({ type: 'reset', count: 1 });
    expect(readFaultSpec({ type: '500', count: 3, licenseId: 'L' })).toEqual({ type: 'error', count: 3, licenseId: 'L' });
    expect(faultKind('500')).toBe('error');
    expect(faultKind('hang')).toBe('hang');
  });

  it('reads a probability with its seed, and a latency with its time', () => {
    expect(readFaultSpec({ type: 'error', probability: 0.25, seed: MAX_SEED })).toEqual({ type: 'error', probability: 0.25, seed: MAX_SEED });
    expect(readFaultSpec({ type: 'latency', latencyMs: 50 })).toEqual({ type: 'latency', count: 1, latencyMs: 50 });
  });

  it('reads a chaos mix written either way as the same spec', () => {
    const nested = readFaultSpec({ chaos: { probability: 0.5, types: ['500', 'latency'], latencyMs: 1, seed: 42 } });
    const flat = readFaultSpec({ type: 'chaos', probability: 0.5, types: ['error', 'latency'], latencyMs: 1, seed: 42 });
    expect(nested).toEqual({ type: 'chaos', types: ['error', 'latency'], probability: 0.5, seed: 42, latencyMs: 1 });
    expect(flat).toEqual(nested);
  });

  it('takes phase "after" only for the faults that lose the answer', () => {
    expect(readFaultSpec({ type: 'truncate', phase: 'after' })).toEqual({ type: 'truncate', count: 1, phase: 'after' });
    expect(readFaultSpec({ chaos: { probability: 1, types: ['reset', 'hang'], phase: 'after' } })).toMatchObject({ phase: 'after' });
    expect(readFaultSpec({ type: 'error', phase: 'before' })).toEqual({ type: 'error', count: 1, phase: 'before' });
  });
});

describe('readFaultSpec, what it refuses (each error names the field and what it takes)', () => {
  it.each([
    ['not an object', 'error', 'body', 'an object'],
    ['a misspelt key', { type: 'error', cuont: 2 }, 'body.cuont', 'one of the known keys'],
    ['an unknown kind', { type: 'boom' }, 'body.type', '"error", "latency", "reset", "truncate", "hang", "500", "chaos"'],
    ['no kind', {}, 'body.type', 'one of'],
    ['chaos beside a type', { type: 'error', chaos: { types: ['error'] } }, 'body', 'either {"chaos": {...}} alone'],
    ['a type inside chaos', { chaos: { type: 'error', types: ['error'] } }, 'body.chaos.type', 'one of the known keys'],
    ['types without chaos', { type: 'error', types: ['reset'] }, 'body.types', 'nothing unless type is "chaos"'],
    ['a chaos mix without types', { type: 'chaos', probability: 0.5 }, 'body.types', 'an array'],
    ['an empty mix', { chaos: { probability: 0.2, types: [] } }, 'body.chaos.types', 'a list of different kinds'],
    ['a kind twice in a mix (500 is error)', { chaos: { types: ['error', '500'] } }, 'body.chaos.types', 'a list of different kinds'],
    ['an unknown kind in a mix', { chaos: { types: ['500', 'boom'] } }, 'body.chaos.types[1]', '"reset"'],
    ['chaos as a kind in a mix', { chaos: { types: ['chaos'] } }, 'body.chaos.types[0]', 'one of'],
    ['an empty licenseId', { type: 'error', licenseId: '' }, 'body.licenseId', 'a non-empty string'],
    ['count and probability', { type: 'error', count: 1, probability: 0.5 }, 'body', 'either count or probability, not both'],
    ['a count of 0', { type: 'error', count: 0 }, 'body.count', 'an integer from 1 to 1000000'],
    ['a probability over 1', { type: 'error', probability: 1.5 }, 'body.probability', 'a number from 0 to 1'],
    ['a seed on a counted fault', { type: 'error', count: 2, seed: 1 }, 'body.seed', 'nothing unless the fault has a probability'],
    ['a seed past the largest', { type: 'error', probability: 0.5, seed: MAX_SEED + 1 }, 'body.seed', 'an integer from 0 to 2147483645'],
    ['a latency without its time', { type: 'latency' }, 'body.latencyMs', 'an integer from 0 to 120000'],
    ['a time on another fault', { type: 'reset', latencyMs: 5 }, 'body.latencyMs', 'nothing unless the fault (or the mix) is "latency"'],
    ['a mix with latency but no time', { chaos: { probability: 0.2, types: ['latency'] } }, 'body.chaos.latencyMs', 'an integer'],
    ['an unknown phase', { type: 'reset', phase: 'during' }, 'body.phase', '"before", "after"'],
    ['phase after for an error', { type: 'error', phase: 'after' }, 'body.phase', 'reset, truncate or hang only'],
    ['phase after for a mix with an error', { chaos: { types: ['reset', 'error'], phase: 'after' } }, 'body.chaos.phase', 'reset, truncate or hang only'],
  ])('%s', (_what, body, path, expected) => {
    const error = refusal(body);
    expect(error.path).toBe(path);
    expect(error.message).toContain(`${path}: expected `);
    expect(error.message).toContain(expected);
  });

  it('bounds latencyMs by the longest the mock holds an answer (faults.maxHangMs)', () => {
    expect(readFaultSpec({ type: 'latency', latencyMs: 2000 }, 2000).latencyMs).toBe(2000);
    expect(refusal({ type: 'latency', latencyMs: 2001 }, 2000).message).toContain('body.latencyMs: expected an integer from 0 to 2000');
  });
});
