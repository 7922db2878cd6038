import { describe, expect, it } from 'vitest';
import { draw, MAX_SEED, newArmedFault, seedState, tryFire } from './chaos.js';
import type { ArmedFault } from './model.js';

describe('the seeded draws (Park-Miller, multiplier 48271)', () => {
  it('gives the published check value: from state 1, the 10000th state is 399268537', () => {
    let state = seedState(0);
    expect(state).toBe(1);
    for (let i = 0; i < 10_000; i++) state = draw(state).state;
    expect(state).toBe(399_268_537);
  });

  it('maps every seed to a state of the generator (never 0), and draws in [0, 1)', () => {
    expect(seedState(MAX_SEED)).toBe(2_147_483_646);
    expect(seedState(41)).toBe(42);
    expect(draw(1)).toEqual({ state: 48_271, roll: 48_270 / 2_147_483_646 });
    // The largest state steps to the one whose roll is the highest below 1.
    const top = draw(2_147_483_646);
    expect(top.roll).toBeGreaterThanOrEqual(0);
    expect(top.roll).toBeLessThan(1);
  });
});

describe('newArmedFault', () => {
  it('gives a counted fault no draws', () => {
    expect(newArmedFault({ type: 'reset', count: 2 }, 'f1')).toEqual({ type: 'reset', count: 2, id: 'f1', fired: 0 });
  });

  it('keeps a given seed, and chooses one (shown in the listing) when there is none', () => {
    expect(newArmedFault({ type: 'error', probability: 0.5, seed: 7 }, 'f2')).toEqual({
      type: 'error',
      probability: 0.5,
      seed: 7,
      id: 'f2',
      fired: 0,
      rng: 8,
    });
    const chosen = newArmedFault({ type: 'chaos', types: ['error'], count: 1 }, 'f3', () => 0.5);
    expect(chosen.seed).toBe(Math.floor(0.5 * (MAX_SEED + 1)));
    expect(chosen.rng).toBe(seedState(chosen.seed!));
  });
});

describe('tryFire', () => {
  it('fires a counted fault and counts it down', () => {
    const fault: ArmedFault = newArmedFault({ type: 'hang', count: 2 }, 'f');
    expect(tryFire(fault)).toMatchObject({ type: 'hang', count: 1, fired: 1 });
    expect(tryFire(fault)).toMatchObject({ count: 0, fired: 2 });
    expect(fault.rng).toBeUndefined();
  });

  it('fires a fault with a probability when its draw is below it, advancing its state either way', () => {
    const never = newArmedFault({ type: 'error', probability: 0, seed: 1 }, 'f');
    expect(tryFire(never)).toBeUndefined();
    expect(never).toMatchObject({ fired: 0, rng: draw(seedState(1)).state });
    const always = newArmedFault({ type: 'error', probability: 1, seed: 1 }, 'f');
    expect(tryFire(always)).toMatchObject({ type: 'error', fired: 1 });
  });

  it('draws the same faults again from the same seed, a chaos mix picking each kind', () => {
    const run = () => {
      const fault = newArmedFault({ type: 'chaos', types: ['error', 'reset', 'latency'], probability: 0.6, seed: 42 }, 'f');
      return Array.from({ length: 40 }, () => tryFire(fault)?.type ?? '-');
    };
    const first = run();
    expect(run()).toEqual(first);
    expect(new Set(first)).toEqual(new Set(['error', 'reset', 'latency', '-']));
  });

  it('starts from its seed when a store kept the fault without its state', () => {
    const kept: ArmedFault = { type: 'error', probability: 0.5, seed: 9, id: 'f', fired: 0 };
    const fresh = newArmedFault({ type: 'error', probability: 0.5, seed: 9 }, 'f');
    expect(tryFire(kept)?.type).toBe(tryFire(fresh)?.type);
    expect(kept.rng).toBe(fresh.rng);
  });
});
