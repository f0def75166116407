/** The Evaluate Lambda's decision: is a step's condition true, false, unknown (no data) or pending (holds now, not yet for its whole window)? */
import type { MetricCatalogue } from '../playbook/catalogue';
import { type Condition, evaluateCondition, type Lookup, parseCondition, UNKNOWN, type Value, variablesOf } from '../compiled/expression';
import { parseDuration } from '../yaml';
import { evaluateAlarmFromSource } from './alarm-evaluation';
import { type AlarmSpec, type DetectionRule, DetectionRuleError, detectionAlarms, ruleText } from './detection';
import { type MetricPoint, type MetricSource, resolveMetricName } from './source';

/** `pending`: the condition holds now but has not been seen to hold for its whole `for` window yet. */
export type ConditionResult = 'true' | 'false' | 'unknown' | 'pending';

/** What a condition is evaluated against. */
export interface EvaluationInput {
  /** The parsed condition. */
  readonly condition: Condition;
  /**
   * Execution context and earlier step outputs. A name here wins over a metric of the same name,
   * so do not pass metric readings taken earlier in the execution: a `still` re-check would read them
   * instead of fresh data.
   */
  readonly variables: Readonly<Record<string, unknown>>;
  readonly metrics: MetricSource;
  readonly catalogue: MetricCatalogue;
  /** The incident service, for metrics with a `service` dimension. */
  readonly service?: string;
  readonly now: Date;
  /** The playbook's `variables:` (name → catalogue metric); they win over the catalogue's aliases. */
  readonly aliases?: Readonly<Record<string, string>>;
  /**
   * Only datapoints after this instant count for the metric variables (`... after cleanup`: the
   * step's end). A metric whose latest datapoint is older makes the result `pending` and is
   * listed in `stale`: its last value was read before the step could show in it.
   * @default - any datapoint of the last two periods counts
   */
  readonly notBefore?: Date;
}

/** The decision and the values behind it, for the incident timeline. */
export interface Evaluation {
  readonly result: ConditionResult;
  /** Every variable of the condition with the value used now; no data is `null` (and listed in `missing`). */
  readonly values: Record<string, unknown>;
  /** Metric variables (as written in the condition) with no data in the last two periods. */
  readonly missing: string[];
  /**
   * Names that are neither variables nor metrics here: outputs of steps that did not run (skipped,
   * failed with `on_fail: skip`, refused). They evaluate as unknown; present only when not empty.
   */
  readonly unavailable?: string[];
  /** Metric variables whose latest datapoint is not after `notBefore` (the result is then `pending`); present only when not empty. */
  readonly stale?: string[];
}

/** Outcome of {@link verifyRecovery}. */
export interface RecoveryCheck {
  /** `true`: every checkable rule is no longer violated; `false`: at least one still is; `unknown`: not enough to say. */
  readonly result: 'true' | 'false' | 'unknown';
  /** Rules (as given) that still hold now. */
  readonly violated: string[];
  /** Rules that could not be checked, each as `rule: reason`. */
  readonly unknown: string[];
  /** Metrics without data for a rule that needed them (they count as failed data collection). */
  readonly missing: string[];
}

interface MetricVariable {
  readonly metric: string;
  /** Seconds. */
  readonly period: number;
}

interface Plan {
  readonly context: ReadonlyMap<string, Value>;
  readonly metricVariables: ReadonlyMap<string, MetricVariable>;
  /** Variables that are neither in the context nor metrics. */
  readonly unresolved: readonly string[];
  /** `baseline`, when the condition uses it: the metric it is the baseline of, and when and how long to average. */
  readonly baseline?: { readonly metric: string; readonly period: number; readonly offsetSeconds: number; readonly windowSeconds: number };
}

/** The name a rule uses for its metric's baseline (defined in the catalogue). */
export const BASELINE_VARIABLE = 'baseline';

/** A context value as an expression value; JSON-shaped values pass, anything else is a caller bug. */
function toValue(name: string, v: unknown): Value {
  if (v === UNKNOWN || v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v;
  if (typeof v === 'object') return v as Readonly<Record<string, unknown>>;
  throw new TypeError(`variable "${name}" is a ${typeof v}; conditions read numbers, strings, booleans, None, lists and objects`);
}

function plan(condition: Condition, input: Omit<EvaluationInput, 'condition'>): Plan {
  const context = new Map<string, Value>();
  const metricVariables = new Map<string, MetricVariable>();
  const unresolved: string[] = [];
  let wantsBaseline = false;
  for (const name of variablesOf(condition)) {
    const given = Object.hasOwn(input.variables, name) ? input.variables[name] : undefined;
    if (given !== undefined) {
      context.set(name, toValue(name, given));
      continue;
    }
    if (name === BASELINE_VARIABLE && input.catalogue.baseline) {
      wantsBaseline = true;
      continue;
    }
    const metric = resolveMetricName(name, input.catalogue, input.aliases);
    const spec = metric === undefined ? undefined : input.catalogue.metrics[metric];
    if (metric !== undefined && spec !== undefined) metricVariables.set(name, { metric, period: spec.period });
    else unresolved.push(name);
  }
  if (!wantsBaseline) return { context, metricVariables, unresolved };
  // `baseline` is the baseline of the one metric the rule compares with it.
  const metrics = [...new Set([...metricVariables.values()].map((m) => m.metric))];
  const def = input.catalogue.baseline!;
  if (metrics.length !== 1) return { context, metricVariables, unresolved: [...unresolved, BASELINE_VARIABLE] };
  const only = [...metricVariables.values()][0]!;
  return { context, metricVariables, unresolved, baseline: { metric: only.metric, period: only.period, offsetSeconds: parseDuration(def.offset) ?? 0, windowSeconds: parseDuration(def.window) ?? 3600 } };
}

/** The mean of the baseline's metric over its window, `offset` ago; undefined without data. */
async function baselineValue(b: NonNullable<Plan['baseline']>, input: Omit<EvaluationInput, 'condition'>): Promise<number | undefined> {
  const centre = input.now.getTime() - b.offsetSeconds * 1000;
  const half = (b.windowSeconds * 1000) / 2;
  const points = await input.metrics.series({ name: b.metric, service: input.service, from: new Date(centre - half), to: new Date(centre + half) });
  if (points.length === 0) return undefined;
  return points.reduce((sum, p) => sum + p.value, 0) / points.length;
}

/** The latest point at or before `t` (ms), from ascending points. */
function latestAt(points: readonly MetricPoint[], t: number): MetricPoint | undefined {
  for (let i = points.length - 1; i >= 0; i -= 1) {
    const p = points[i] as MetricPoint;
    if (p.at.getTime() <= t) return p;
  }
  return undefined;
}

/**
 * Did the condition hold over the whole window? Only when every metric's data reaches back to the
 * window start (within one period), has no hole longer than two periods, and the condition is true
 * at every timestamp where all its metrics have a value.
 */
function heldOverWindow(
  condition: Condition,
  p: Plan,
  series: ReadonlyMap<string, readonly MetricPoint[]>,
  start: number,
  now: number,
  baselineAt?: Value,
): boolean {
  const metrics = new Map([...p.metricVariables.values()].map((m) => [m.metric, m]));
  const times = new Set<number>();
  for (const { metric, period } of metrics.values()) {
    const points = series.get(metric) ?? [];
    const first = points[0];
    if (first === undefined || first.at.getTime() > start + period * 1000) return false;
    for (let i = 1; i < points.length; i += 1) {
      const gap = (points[i] as MetricPoint).at.getTime() - (points[i - 1] as MetricPoint).at.getTime();
      if (gap > 2 * period * 1000) return false;
    }
    for (const point of points) {
      const t = point.at.getTime();
      if (t >= start && t <= now) times.add(t);
    }
  }
  for (const t of [...times].sort((a, b) => a - b)) {
    const at = new Map<string, number>();
    for (const metric of metrics.keys()) {
      const point = latestAt(series.get(metric) ?? [], t);
      if (point) at.set(metric, point.value);
    }
    // Before every metric has started there is nothing to evaluate; coverage was checked above.
    if (at.size < metrics.size) continue;
    const lookup: Lookup = (name) => {
      const m = p.metricVariables.get(name);
      if (m) return at.get(m.metric);
      return name === BASELINE_VARIABLE && baselineAt !== undefined ? baselineAt : (p.context.get(name) ?? UNKNOWN);
    };
    if (evaluateCondition(condition, lookup) !== true) return false;
  }
  return true;
}

/**
 * Evaluates a step condition now. Each variable comes from `variables` when present there, else
 * from its metric (through `aliases` and the catalogue): the latest point of the last two periods,
 * or unknown when there is none — never false or zero. A `for T` condition must also have held at
 * every datapoint of the last T seconds: `pending` when it holds now but not (or not provably) for
 * the whole window. `after <duration>` clauses are the state machine's wait; `after <step>` passes
 * the step's end as `notBefore`, and the condition is `pending` until its metrics have a datapoint
 * newer than that.
 *
 * A name that is neither in `variables` nor a metric (the loader accepted it, so it is an output of
 * a step that did not run in this execution) is unknown, never an error, and listed in `unavailable`.
 * @example
 * await evaluateStepCondition({ condition: parseCondition('latency_p99 still > 200ms after 3min'), variables: {}, metrics, catalogue, service: 'trading-api', now: new Date() });
 * // { result: 'true', values: { latency_p99: 0.35 }, missing: [] }
 */
export async function evaluateStepCondition(input: EvaluationInput): Promise<Evaluation> {
  const { condition } = input;
  const p = plan(condition, input);

  const now = input.now.getTime();
  const windowSeconds = condition.timing?.kind === 'for' ? condition.timing.seconds : 0;
  const byMetric = new Map([...p.metricVariables.values()].map((m) => [m.metric, m.period]));
  const series = new Map<string, readonly MetricPoint[]>(
    await Promise.all(
      [...byMetric].map(async ([metric, period]) => {
        const from = new Date(now - Math.max(windowSeconds, 2 * period) * 1000);
        const points = await input.metrics.series({ name: metric, service: input.service, from, to: input.now });
        return [metric, points.filter((pt) => pt.at.getTime() <= now)] as const;
      }),
    ),
  );

  const values: Record<string, unknown> = {};
  const missing: string[] = [];
  const current = new Map<string, Value>();
  for (const [name, value] of p.context) {
    current.set(name, value);
    values[name] = value === UNKNOWN ? null : value;
  }
  for (const name of p.unresolved) {
    current.set(name, UNKNOWN);
    values[name] = null;
  }
  const unavailable = p.unresolved.length > 0 ? { unavailable: [...p.unresolved] } : {};
  if (p.baseline) {
    const base = await baselineValue(p.baseline, input);
    current.set(BASELINE_VARIABLE, base ?? UNKNOWN);
    values[BASELINE_VARIABLE] = base ?? null;
    if (base === undefined) missing.push(BASELINE_VARIABLE);
  }
  const stale: string[] = [];
  for (const [name, { metric, period }] of p.metricVariables) {
    const latest = latestAt(series.get(metric) ?? [], now);
    if (latest === undefined || latest.at.getTime() < now - 2 * period * 1000) {
      current.set(name, UNKNOWN);
      values[name] = null;
      missing.push(name);
    } else {
      current.set(name, latest.value);
      values[name] = latest.value;
      if (input.notBefore && latest.at.getTime() <= input.notBefore.getTime()) stale.push(name);
    }
  }
  // Read before the step it comes after could show in the metric: not yet decidable, whatever it says.
  if (stale.length > 0 && missing.length === 0) return { result: 'pending', values, missing, ...unavailable, stale };

  const verdict = evaluateCondition(condition, (name) => current.get(name));
  if (verdict === UNKNOWN) return { result: 'unknown', values, missing, ...unavailable };
  if (!verdict) return { result: 'false', values, missing, ...unavailable };
  if (windowSeconds === 0 || p.metricVariables.size === 0) return { result: 'true', values, missing, ...unavailable };
  const held = heldOverWindow(condition, p, series, now - windowSeconds * 1000, now, current.get(BASELINE_VARIABLE));
  return { result: held ? 'true' : 'pending', values, missing, ...unavailable };
}

/** One rule's outcome in a recovery check. */
interface RuleOutcome {
  readonly rule: string;
  readonly outcome: 'violated' | 'clear' | 'skipped' | 'no_data';
  readonly reason?: string;
  readonly missing?: readonly string[];
}

/** Is the rule a trend (`m_trend: increasing` as a map, or `m increasing` as text)? */
function isTrendRule(rule: DetectionRule): boolean {
  if (typeof rule !== 'string') return Object.keys(rule).some((k) => k.endsWith('_trend'));
  try {
    const { expr } = parseCondition(rule);
    return expr.type === 'predicate' && (expr.name === 'increasing' || expr.name === 'decreasing');
  } catch {
    return false;
  }
}

/**
 * A trend rule is judged as its CloudWatch alarm judges it (catalogue `trend`: DIFF of the metric
 * in M of the last N periods): ALARM is still climbing, OK is clear, INSUFFICIENT_DATA is no data.
 */
async function trendOutcome(rule: DetectionRule, input: Omit<EvaluationInput, 'condition'>): Promise<RuleOutcome> {
  const text = ruleText(rule);
  const service = input.service ?? '(none)';
  let spec: AlarmSpec | undefined;
  try {
    const { alarms, skipped } = detectionAlarms({ playbook: 'recovery-check', service, detection: { primary: [rule] }, ...(input.aliases ? { variables: input.aliases } : {}) }, input.catalogue, { services: [service] });
    spec = alarms[0];
    if (!spec) return { rule: text, outcome: 'skipped', reason: `skipped: ${skipped[0]?.reason ?? 'no alarm for this rule'}` };
  } catch (err) {
    if (err instanceof DetectionRuleError) return { rule: text, outcome: 'skipped', reason: `skipped: ${err.reason}` };
    throw err;
  }
  const evaluation = await evaluateAlarmFromSource(spec, input.metrics, input.now);
  if (evaluation.state === 'ALARM') return { rule: text, outcome: 'violated' };
  if (evaluation.state === 'OK') return { rule: text, outcome: 'clear' };
  const metrics = spec.metrics.map((m) => m.metric);
  return { rule: text, outcome: 'no_data', reason: `no data for ${metrics.join(', ')} (${evaluation.reason})`, missing: metrics };
}

/**
 * Has the incident recovered? Each rule is a detection rule as the playbook writes it
 * (`redis_memory_usage > 85%`, `matching_engine_latency_p99_trend: increasing`); recovered
 * (`true`) when every rule that can be checked is false now and at least one could be checked;
 * `false` when any still holds; `unknown` otherwise (no data for a rule counts as unknown, never as
 * recovered). A trend rule holds while its alarm would be in ALARM (still climbing, even under the
 * threshold). `baseline` is the rule's metric a catalogue-defined time earlier (see the
 * catalogue's `baseline`). Rules with names that are neither variables nor metrics, and
 * `log_pattern` rules (log counts are not metrics), are skipped and listed in `unknown`.
 *
 * @throws ExpressionError for a rule that does not parse.
 * @example
 * await verifyRecovery(['redis_memory_usage > 85%', 'redis_evicted_keys > 0'], { variables: {}, metrics, catalogue, now: new Date() });
 */
export async function verifyRecovery(rules: readonly DetectionRule[], input: Omit<EvaluationInput, 'condition'>): Promise<RecoveryCheck> {
  const checks = await Promise.all(
    rules.map(async (rule): Promise<RuleOutcome> => {
      if (isTrendRule(rule)) return trendOutcome(rule, input);
      if (typeof rule !== 'string') return { rule: ruleText(rule), outcome: 'skipped', reason: 'skipped: not a metric rule (log patterns are not checked on recovery)' };
      const condition = parseCondition(rule);
      const { unresolved } = plan(condition, input);
      if (unresolved.length > 0) {
        const names = unresolved.map((n) => `"${n}"`).join(', ');
        return { rule, outcome: 'skipped', reason: `skipped: ${names} ${unresolved.length === 1 ? 'is' : 'are'} neither a variable nor a metric` };
      }
      const { result, missing } = await evaluateStepCondition({ ...input, condition });
      if (result === 'true' || result === 'pending') return { rule, outcome: 'violated' };
      if (result === 'false') return { rule, outcome: 'clear' };
      return { rule, outcome: 'no_data', reason: missing.length > 0 ? `no data for ${missing.join(', ')}` : 'unknown', missing };
    }),
  );
  const violated = checks.filter((c) => c.outcome === 'violated').map((c) => c.rule);
  const unknown = checks.filter((c) => c.reason !== undefined).map((c) => `${c.rule}: ${c.reason}`);
  const checkable = checks.filter((c) => c.outcome !== 'skipped');
  let result: RecoveryCheck['result'] = 'unknown';
  if (violated.length > 0) result = 'false';
  else if (checkable.length > 0 && checkable.every((c) => c.outcome === 'clear')) result = 'true';
  return { result, violated, unknown, missing: [...new Set(checks.flatMap((c) => c.missing ?? []))] };
}
