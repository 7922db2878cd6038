import { MOCK_VERSION } from '../mock/light.js';
import { redactUrl } from '../shared/index.js';
import { CaseContext, RunState, type Target } from './context.js';
import { planRun, type Plan, type PlanOptions } from './plan.js';
import { connectionProblem, NotRunError, preflight } from './preflight.js';
import { ruleVerdicts, type RuleVerdict } from './rules.js';
import { makeSamples } from './samples.js';
import type { CaseOutcome, ConformanceCase } from './types.js';
import { Wire } from './wire.js';

export interface RunOptions extends PlanOptions {
  /** Refuse a plan that may spend more, and stop when credits fall faster than planned. */
  budget?: number;
  /**
   * Each case's outcome as it ends; held until the target has accepted the run's credentials
   * (or the run ends), so a run stopped for wrong credentials reports nothing but why.
   */
  onOutcome?: (outcome: CaseOutcome) => void;
  /** Interrupts the run: requests in flight are aborted, what the run made on the target removed. */
  signal?: AbortSignal;
}

export interface RunReport {
  /** The beia-kit that made the report. */
  kit: { name: 'beia-kit'; version: string };
  /** The endpoint with its credentials redacted, and whether it is the in-process mock. */
  target: { endpoint: string; kind: Target['kind'] };
  /** When the run started and ended (ISO 8601). */
  startedAt: string;
  finishedAt: string;
  plan: { maxCredits: number };
  outcomes: CaseOutcome[];
  observations: Record<string, unknown>;
  /** The case that recorded each observation. */
  observedBy: Record<string, string>;
  /** How far the license's Credits-Remaining fell over the run, read from its 200s; undefined when it sent none. */
  creditsSpent?: number;
  /** Why the run stopped before its end, when it did. */
  stopped?: string;
  /**
   * Why the run did not run, when the caller's mistake stopped it (a target not reachable at that
   * path, an admin API that does not answer, credentials refused): one line with the fix. Then
   * nothing was learnt about the target: no outcomes, no observations.
   */
  notRun?: string;
  /** What the run made on the target and could not remove, in words. */
  leftBehind?: string[];
  /** Each documented rule's verdict (D1 to D9): computed from the outcomes when absent. */
  rules?: RuleVerdict[];
}

/** The plan is over the budget: nothing was sent. */
export class OverBudgetError extends Error {
  override readonly name = 'OverBudgetError';
}

/**
 * Runs the planned cases one by one against the target, after a free preflight (the target
 * answers at that path; a beia mock's admin API answers and takes the token). A case that throws
 * is an `error` (the suite or the network broke, not the target). The caller's mistakes (see
 * {@link RunReport.notRun}) end the run at once, as does a target that stops answering. With a
 * budget, the run stops as soon as the license's Credits-Remaining has fallen by more than the
 * cases run so far may spend. What the run made on the target is removed at its end, also when
 * interrupted through `signal`.
 */
export async function runConformance(target: Target, cases: readonly ConformanceCase[], options: RunOptions = {}): Promise<RunReport> {
  const plan = planWithinBudget(cases, target, options);
  const startedAt = new Date().toISOString();
  const wire = new Wire(target.endpoint, target.dispatcher, options.signal);
  const state = new RunState(target, wire, await makeSamples());
  const secrets = [target.credentials.apiKey, target.zeroCreditLicense?.apiKey].filter((s): s is string => Boolean(s));
  const report: RunReport = {
    kit: { name: 'beia-kit', version: MOCK_VERSION },
    target: { endpoint: redact(redactUrl(target.endpoint), secrets), kind: target.kind },
    startedAt,
    finishedAt: startedAt,
    plan: { maxCredits: plan.maxCredits },
    outcomes: [],
    observations: state.observations,
    observedBy: state.observedBy,
  };
  const run: Run = { target, state, report, options, secrets, held: [] };
  try {
    await preflight(target, wire);
    await state.prepare();
    // A license the run made has a key of its own, never to be shown either.
    if (state.target.zeroCreditLicense?.apiKey) secrets.push(state.target.zeroCreditLicense.apiKey);
    await runCases(run, plan);
  } catch (error) {
    if (error instanceof NotRunError) {
      report.notRun = redact(error.message, secrets);
    } else if (options.signal?.aborted) {
      // Interrupted in the preflight or while preparing: nothing was judged.
      report.notRun = interruption(options.signal);
    } else throw error;
  } finally {
    const left = await state.cleanUp();
    if (left.length > 0) report.leftBehind = left.map((what) => redact(what, secrets));
    await wire.close();
  }
  return finishReport(run, cases);
}

/** What the steps of one run share. */
interface Run {
  readonly target: Target;
  readonly state: RunState;
  readonly report: RunReport;
  readonly options: RunOptions;
  /** The keys never to be shown: in messages, observations and what was left behind. */
  readonly secrets: string[];
  /** Outcomes not yet told to `onOutcome`: the target has not accepted the run's credentials yet. */
  readonly held: CaseOutcome[];
}

/** The plan, refused when it may spend more than the budget: then nothing is sent. */
function planWithinBudget(cases: readonly ConformanceCase[], target: Target, options: RunOptions): Plan {
  const plan: Plan = planRun(cases, target, options);
  if (options.budget !== undefined && plan.maxCredits > options.budget) {
    throw new OverBudgetError(
      `The plan may spend ${plan.maxCredits} credits, over the budget of ${options.budget}. Raise --budget, or leave cases out with --skip paid (or --only free).`,
    );
  }
  return plan;
}

/** The planned cases one by one: skipped once the run has stopped, and stopped when credits fall faster than planned. */
async function runCases(run: Run, plan: Plan): Promise<void> {
  const { report, options } = run;
  const { signal } = options;
  const used = new Set<string>();
  let allowed = 0;
  for (const planned of plan.cases) {
    const c = planned.case;
    const base = { id: c.id, title: c.title, rule: c.rule, kind: c.kind };
    if (signal?.aborted) report.stopped ??= interruption(signal);
    let outcome: CaseOutcome;
    if (report.stopped || planned.skipReason) {
      outcome = report.stopped
        ? { ...base, status: 'skip', message: `not run: ${report.stopped}`, durationMs: 0 }
        : { ...base, status: 'skip', message: planned.skipReason!, durationMs: 0, ...(planned.missing ? { needs: planned.missing } : {}) };
    } else {
      allowed += c.tags.credits + (c.tags.shares ?? []).filter((s) => !used.has(s)).length;
      (c.tags.shares ?? []).forEach((s) => used.add(s));
      outcome = await runCase(run, c, base);
      const spent = spentCredits(run.state.creditsSeen);
      if (options.budget !== undefined && spent > allowed) {
        report.stopped = `Credits-Remaining fell by ${spent}, more than the ${allowed} planned so far; stopped to protect the budget`;
      }
    }
    outcome.message = redact(outcome.message, run.secrets);
    report.outcomes.push(outcome);
    tell(run, outcome);
  }
}

/** One case run and timed; a throw is an `error` (or a skip when interrupted), and a target gone stops the run. */
async function runCase(run: Run, c: ConformanceCase, base: Pick<CaseOutcome, 'id' | 'title' | 'rule' | 'kind'>): Promise<CaseOutcome> {
  const { report, options } = run;
  const started = performance.now();
  try {
    const result = (await c.run(new CaseContext(run.state, c))) ?? { status: 'pass' as const, message: '' };
    return { ...base, ...result, durationMs: Math.round(performance.now() - started) };
  } catch (error) {
    if (error instanceof NotRunError) throw error;
    const durationMs = Math.round(performance.now() - started);
    if (options.signal?.aborted) {
      report.stopped ??= interruption(options.signal);
      return { ...base, status: 'skip', message: `not run: ${report.stopped}`, durationMs };
    }
    const gone = connectionProblem(error, run.target.endpoint);
    // One line for a target that went away, not one error per case left.
    if (gone) report.stopped = `the target stopped answering: ${gone}`;
    return { ...base, status: 'error', message: `the suite could not run the case: ${gone ?? (error as Error).message}`, durationMs };
  }
}

/** An outcome held until the target has accepted the run's credentials, then told with those before it. */
function tell(run: Run, outcome: CaseOutcome): void {
  run.held.push(outcome);
  if (run.state.credentialsProven) for (const o of run.held.splice(0)) run.options.onOutcome?.(o);
}

function interruption(signal: AbortSignal): string {
  return `interrupted${typeof signal.reason === 'string' ? ` (${signal.reason})` : ''}`;
}

/** A run that did not run forgets what its cases saw; the rest is told, redacted, counted and judged. */
function finishReport(run: Run, cases: readonly ConformanceCase[]): RunReport {
  const { report, state, secrets } = run;
  if (report.notRun !== undefined) {
    // Nothing was learnt about the target: what the cases saw before the stop is not a verdict.
    report.outcomes = [];
    for (const key of Object.keys(state.observations)) delete state.observations[key];
    for (const key of Object.keys(state.observedBy)) delete state.observedBy[key];
    run.held.length = 0;
  } else {
    for (const o of run.held.splice(0)) run.options.onOutcome?.(o);
  }
  for (const [key, value] of Object.entries(state.observations)) state.observations[key] = redactDeep(value, secrets);
  if (state.creditsSeen.length > 0 && report.notRun === undefined) report.creditsSpent = spentCredits(state.creditsSeen);
  report.rules = ruleVerdicts(report.outcomes, report.notRun, cases);
  report.finishedAt = new Date().toISOString();
  return report;
}

/**
 * How far the license's credits fell over the run, from the 200s: the first one had already spent
 * its credit, so the start is its value plus one.
 */
function spentCredits(seen: readonly number[]): number {
  if (seen.length === 0) return 0;
  return seen[0]! + 1 - Math.min(...seen);
}

function redact(text: string, secrets: string[]): string {
  return secrets.reduce((out, secret) => out.split(secret).join('***'), text);
}

/** Every string inside a value, redacted; the shape is kept. */
function redactDeep(value: unknown, secrets: string[]): unknown {
  if (typeof value === 'string') return redact(value, secrets);
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, secrets));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [redact(k, secrets), redactDeep(v, secrets)]));
  return value;
}
