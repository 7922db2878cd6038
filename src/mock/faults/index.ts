/**
 * Faults, in one place: the model (what a tester arms, what fires), how an armed fault is read
 * from the admin API (`readFaultSpec`), the seeded draws of the faults that fire by chance
 * (`chaos.ts`, mirrored by the Redis store's Lua), and the scenario header, which forces an error
 * or a fault on one request.
 */
export { ANSWER_LOSING_FAULTS, FAULT_TYPES } from './model.js';
export type { ArmedFault, FaultSpec, FaultType, FiredFault } from './model.js';
export { draw, MAX_SEED, newArmedFault, seedState, tryFire } from './chaos.js';
export { faultKind, readFaultSpec } from './spec.js';
export { forcedScenario, preferredScenario, SCENARIO_FAULTS, SCENARIOS, scenarioError, scenarioFault } from './scenario.js';
export { actOnConnection, type BreakableConnection } from './act-on-answer.js';
