import { ConfigError, readArray, readEnum, readInt, readNumber, readObject, readString, type Json } from '../config/reader.js';
import { MAX_SEED } from './chaos.js';
import { ANSWER_LOSING_FAULTS, FAULT_TYPES, type FaultSpec, type FaultType } from './model.js';

/** The names a fault's kind may be given by: the kinds, `500` for `error` (as in the dashboard and Prism), and `chaos` for a mix. */
const FAULT_NAMES = [...FAULT_TYPES, '500', 'chaos'] as const;
const KIND_NAMES = [...FAULT_TYPES, '500'] as const;

/** The keys of a fault to arm; a chaos mix written `{chaos: {...}}` takes them all but `type`. */
const SPEC_KEYS = ['type', 'types', 'licenseId', 'count', 'probability', 'seed', 'latencyMs', 'phase'];

/** The kind a name stands for: `500` is `error`. */
export function faultKind(name: (typeof KIND_NAMES)[number]): FaultType {
  return name === '500' ? 'error' : name;
}

/**
 * Reads a fault to arm: `{type, licenseId?, count? | probability?, seed?, latencyMs?, phase?}`,
 * or a chaos mix `{type: "chaos", types: [...], ...}`, also written `{chaos: {probability, types, seed, ...}}`.
 * A field it refuses is a `ConfigError` that names it (`body.chaos.probability`) and what it takes.
 * `maxLatencyMs` bounds `latencyMs` (the config's `faults.maxHangMs`).
 */
export function readFaultSpec(body: unknown, maxLatencyMs = 120_000): FaultSpec {
  const { raw, path } = unwrapChaos(body);
  const spec = readKinds(raw, path);
  if (raw.licenseId !== undefined) spec.licenseId = readString(raw.licenseId, `${path}.licenseId`);
  readFiring(spec, raw, path);
  const kinds = spec.types ?? [spec.type];
  if (kinds.includes('latency'))
    spec.latencyMs = readInt(raw.latencyMs, `${path}.latencyMs`, 0, maxLatencyMs); // faults.maxHangMs
  else if (raw.latencyMs !== undefined) throw new ConfigError(`${path}.latencyMs`, 'nothing unless the fault (or the mix) is "latency"', raw.latencyMs);
  if (raw.phase !== undefined) spec.phase = readPhase(raw.phase, `${path}.phase`, kinds);
  return spec;
}

/** The fault's fields and the path errors name: the body itself, or `{chaos: {...}}` read as `{type: "chaos", ...}`. */
function unwrapChaos(body: unknown): { raw: Json; path: string } {
  const outer = readObject(body, 'body', [...SPEC_KEYS, 'chaos']);
  if (outer.chaos === undefined) return { raw: outer, path: 'body' };
  if (Object.keys(outer).length > 1)
    throw new ConfigError('body', 'either {"chaos": {...}} alone or a fault with "type", not both', Object.keys(outer).join(', '));
  const path = 'body.chaos';
  const inner = readObject(
    outer.chaos,
    path,
    SPEC_KEYS.filter((key) => key !== 'type'),
  );
  return { raw: { type: 'chaos', ...inner }, path };
}

/** `type`, and for a chaos mix its `types`: different kinds, at least one. */
function readKinds(raw: Json, path: string): FaultSpec {
  const type = readEnum(raw.type, `${path}.type`, FAULT_NAMES);
  const spec: FaultSpec = { type: type === 'chaos' ? 'chaos' : faultKind(type) };
  if (spec.type === 'chaos') {
    const types = readArray(raw.types, `${path}.types`, (value, at) => faultKind(readEnum(value, at, KIND_NAMES)));
    if (types.length === 0 || new Set(types).size !== types.length) {
      throw new ConfigError(`${path}.types`, `a list of different kinds of fault, among ${KIND_NAMES.map((k) => `"${k}"`).join(', ')}`, raw.types);
    }
    spec.types = types;
  } else if (raw.types !== undefined) {
    throw new ConfigError(`${path}.types`, 'nothing unless type is "chaos"', raw.types);
  }
  return spec;
}

/** When it fires: `count` times (1 by default) or with a `probability`, and the `seed` of its draws. */
function readFiring(spec: FaultSpec, raw: Json, path: string): void {
  if (raw.count !== undefined && raw.probability !== undefined) throw new ConfigError(path, 'either count or probability, not both', 'both');
  if (raw.probability !== undefined) spec.probability = readNumber(raw.probability, `${path}.probability`, 0, 1);
  else spec.count = raw.count === undefined ? 1 : readInt(raw.count, `${path}.count`, 1, 1_000_000);
  if (raw.seed !== undefined) {
    if (spec.probability === undefined && spec.type !== 'chaos') {
      throw new ConfigError(`${path}.seed`, 'nothing unless the fault has a probability or is a chaos mix (a counted fault draws nothing)', raw.seed);
    }
    spec.seed = readInt(raw.seed, `${path}.seed`, 0, MAX_SEED);
  }
}

/** `before` (the default) or `after` the charge; `after` only when every kind loses the answer. */
function readPhase(value: unknown, path: string, kinds: readonly (FaultType | 'chaos')[]): 'before' | 'after' {
  const phase = readEnum(value, path, ['before', 'after'] as const);
  if (phase === 'after' && !kinds.every((kind) => ANSWER_LOSING_FAULTS.has(kind))) {
    throw new ConfigError(
      path,
      '"before" for a fault (or a mix) with an error or latency ("after" charges, then loses the answer: reset, truncate or hang only)',
      value,
    );
  }
  return phase;
}
