/** The kinds of fault a tester can arm (README, "Faults"). */
export const FAULT_TYPES = ['error', 'latency', 'reset', 'truncate', 'hang'] as const;
export type FaultType = (typeof FAULT_TYPES)[number];

/** The faults whose answer never arrives whole: the ones that can be armed after the charge (`phase: "after"`). */
export const ANSWER_LOSING_FAULTS: ReadonlySet<string> = new Set<FaultType>(['reset', 'truncate', 'hang']);

export interface FaultSpec {
  /** One kind of fault, or `chaos`: a mix that fires one of `types` each time, drawn from its seed. */
  type: FaultType | 'chaos';
  /** For `chaos`: the kinds it picks from, evenly. */
  types?: FaultType[];
  /** Only requests of this license; all licenses when absent. */
  licenseId?: string;
  /** Fire on the next `count` matching requests, then disarm. */
  count?: number;
  /** Or fire on each matching request with this probability, until removed. */
  probability?: number;
  /**
   * For a fault with a probability or a chaos mix: the seed of its draws, an integer from 0 to
   * 2147483645. The same seed and the same requests give the same faults; one is chosen (and
   * listed) when absent, so a failing run can be replayed.
   */
  seed?: number;
  /** Added processing time, for `latency`. */
  latencyMs?: number;
  /**
   * `before` the charge (the default: nothing is spent), or `after` it, for the faults that lose
   * the answer (reset, truncate, hang): the credit is spent, then the answer never arrives.
   */
  phase?: 'before' | 'after';
}

export interface ArmedFault extends FaultSpec {
  id: string;
  /** How many times it fired. */
  fired: number;
  /** The state of its seeded draws (see `chaos.ts`), for a fault that draws. */
  rng?: number;
}

/** A fault that fired for one request, with the one kind it takes this time (a chaos mix's pick). */
export type FiredFault = ArmedFault & { type: FaultType };
