import type { ArmedFault, FaultSpec, FaultType, FiredFault } from './model.js';

/**
 * Seeded draws for the faults that fire by chance, so that a failing chaos run replays exactly.
 * Park and Miller's "minimal standard" generator (state × 48271 mod 2³¹−1): every step is exact
 * in a double, so this file and the Redis store's Lua script (whose numbers are doubles too) draw
 * the very same sequence. Each fault carries its own state, advanced once per draw.
 */
const MODULUS = 2147483647;
const MULTIPLIER = 48271;
/** Seeds are integers from 0 to this (a state of the generator is never 0). */
export const MAX_SEED = MODULUS - 2;

/** The generator's state for a seed. */
export function seedState(seed: number): number {
  return (seed % (MODULUS - 1)) + 1;
}

/** The next state and its draw, uniform in [0, 1). */
export function draw(state: number): { state: number; roll: number } {
  const next = (state * MULTIPLIER) % MODULUS;
  return { state: next, roll: (next - 1) / (MODULUS - 1) };
}

/** A fault as a store keeps it: an unseeded fault that needs draws gets a seed of its own, shown in the listing. */
export function newArmedFault(spec: FaultSpec, id: string, random: () => number = Math.random): ArmedFault {
  const fault: ArmedFault = { ...spec, id, fired: 0 };
  if (spec.probability !== undefined || spec.type === 'chaos') {
    fault.seed = spec.seed ?? Math.floor(random() * (MAX_SEED + 1));
    fault.rng = seedState(fault.seed);
  }
  return fault;
}

/**
 * Whether `fault` fires for one matching request, advancing its counters and generator in place:
 * a counted fault fires; a fault with a probability fires when its draw is below it; a chaos mix
 * that fires draws once more to pick its type. The Redis store's `beiaTakeFault` does the same.
 */
export function tryFire(fault: ArmedFault): FiredFault | undefined {
  // The next draw of the fault's own sequence (a fault stored without its state starts from its seed).
  const roll = () => {
    const step = draw(fault.rng ?? seedState(fault.seed ?? 0));
    fault.rng = step.state;
    return step.roll;
  };
  if (fault.count !== undefined) fault.count -= 1;
  else if (fault.probability === undefined || roll() >= fault.probability) return undefined;
  fault.fired += 1;
  const type: FaultType = fault.type === 'chaos' ? (fault.types?.[Math.floor(roll() * fault.types.length)] ?? 'error') : fault.type;
  return { ...fault, type };
}
