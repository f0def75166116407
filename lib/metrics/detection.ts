/**
 * Detection rules (a playbook's `detection.primary` / `detection.secondary`) as CloudWatch alarm
 * specifications: one pure description per rule and service that the CDK stack turns into an
 * alarm and the local evaluator (alarm-evaluation.ts) evaluates as CloudWatch would, so drills
 * detect with exactly the stack's semantics.
 *
 * What each rule becomes (the README's "Detection alarms" table lists every playbook's):
 * - `metric OP literal` (`redis_memory_usage > 85%`): a metric alarm on the catalogue's
 *   namespace/metric/dimensions/stat, the threshold converted to the metric's unit (85 Percent).
 * - anything else comparing numbers (`rds_connections > max_connections * 0.8`,
 *   `api_request_rate > baseline * 3`): a metric-math alarm on `left − right` OP 0, each metric
 *   converted to base units (seconds, ratios) so that mixed units compare as the runtime does.
 * - `baseline`: the catalogue's baseline of the rule's one metric (its mean over `window` centred
 *   `offset` earlier). Metric math cannot shift a series in time, so the stack's baseline function
 *   publishes that mean as `SreAgent/Baseline` `<metric>` every period and the alarm reads it;
 *   the local evaluator computes the same mean from the metric store.
 * - `m increasing` / `m_trend: increasing`: `DIFF(m) > 0` in `trend.moving` of the last
 *   `trend.periods` periods (catalogue `trend`); `decreasing` is `< 0`.
 * - `log_pattern: "a|b|c"`: a CloudWatch Logs metric filter (`?"a" ?"b" ?"c"`) on the
 *   application log group, counting matches (default 0), alarmed when the count is > 0.
 * - `for T`: T / period datapoints out of as many; without it one datapoint.
 * - high resolution: a rule whose metrics are all published at 1-second storage resolution
 *   (catalogue `high_resolution`) evaluates every 10 s; otherwise the shortest catalogue period,
 *   slower metrics repeated with `FILL(m, REPEAT)`.
 * - missing data: `missing` (no data is unknown, never a breach nor a recovery: the alarm goes to
 *   INSUFFICIENT_DATA, which EventBridge does not forward to the trigger).
 *
 * Primary rules are named by the trigger's convention, `sre-agent/<playbook>/<service>/<subject>`,
 * and start the playbook. Secondary rules corroborate: `sre-agent-signal/<playbook>/<service>/<subject>`
 * alarms are on the dashboard and never start a playbook on their own (a rising error rate alone
 * must not kill database connections).
 */
import { type Condition, type Expr, parseCondition } from '../compiled/expression';
import { ExpressionError } from '../compiled/errors';
import type { MetricCatalogue, MetricSpec } from '../playbook/catalogue';
import { parseDuration } from '../yaml/duration';
import { resolveMetricName } from './source';
import { baseUnitsPerUnit, fromBaseUnits, unitKind } from './units';

/** Alarm name prefix of primary rules: the trigger routes `sre-agent/<playbook>/...` to the playbook. */
export const TRIGGER_ALARM_PREFIX = 'sre-agent/';
/** Alarm name prefix of secondary rules: no EventBridge rule matches it, so they start nothing. */
export const SIGNAL_ALARM_PREFIX = 'sre-agent-signal/';
/** Namespace of the baselines the stack's baseline function publishes. */
export const BASELINE_NAMESPACE = 'SreAgent/Baseline';
/** Namespace of the log-pattern metric filters. */
export const LOG_PATTERN_NAMESPACE = 'SreAgent/LogPatterns';
/** Period of a high-resolution alarm: CloudWatch evaluates high-resolution alarms every 10 s at best. */
export const HIGH_RESOLUTION_PERIOD = 10;

export type ComparisonOperator = 'GreaterThanThreshold' | 'GreaterThanOrEqualToThreshold' | 'LessThanThreshold' | 'LessThanOrEqualToThreshold';
export type TreatMissingData = 'missing' | 'ignore' | 'breaching' | 'notBreaching';

const COMPARISONS: Readonly<Record<string, ComparisonOperator>> = {
  '>': 'GreaterThanThreshold',
  '>=': 'GreaterThanOrEqualToThreshold',
  '<': 'LessThanThreshold',
  '<=': 'LessThanOrEqualToThreshold',
};

/** One metric an alarm reads (a MetricStat of its MetricDataQuery). */
export interface AlarmMetric {
  /** Query id in the alarm (`m1`, `b1`...). */
  readonly id: string;
  /** The catalogue metric (for a baseline: the metric it is the baseline of). */
  readonly metric: string;
  readonly namespace: string;
  /** CloudWatch metric name. */
  readonly metricName: string;
  /** Dimension name → value; `service` is the alarm's service. */
  readonly dimensions: Readonly<Record<string, string>>;
  readonly stat: string;
  /** The catalogue unit (values are published in it). */
  readonly unit: string;
  /** The metric's own period; longer than the alarm's means it is repeated with FILL(m, REPEAT). */
  readonly naturalPeriod: number;
  /** Set for a baseline series: what the baseline function publishes (and the local evaluator computes). */
  readonly baseline?: { readonly offsetSeconds: number; readonly windowSeconds: number };
  /** Set for a log-pattern count: the metric filter that produces it. */
  readonly logPattern?: { readonly pattern: string; readonly filterPattern: string };
}

/** Metric math, as a tree: rendered to CloudWatch's syntax and evaluated locally alike. */
export type AlarmExpression =
  | { readonly type: 'metric'; readonly id: string }
  | { readonly type: 'number'; readonly value: number }
  | { readonly type: 'arithmetic'; readonly op: '+' | '-' | '*' | '/'; readonly left: AlarmExpression; readonly right: AlarmExpression }
  | { readonly type: 'diff'; readonly operand: AlarmExpression }
  /** `FILL(m, REPEAT)`: a missing datapoint takes the latest earlier value. */
  | { readonly type: 'repeat'; readonly operand: AlarmExpression };

/** One CloudWatch alarm for one detection rule and one service. */
export interface AlarmSpec {
  /** `sre-agent/<playbook>/<service>/<subject>` (primary) or `sre-agent-signal/...` (secondary). */
  readonly name: string;
  readonly playbook: string;
  readonly service: string;
  readonly group: 'primary' | 'secondary';
  /** True for primary rules: the alarm starts the playbook. */
  readonly triggers: boolean;
  /** The rule as written in the playbook. */
  readonly rule: string;
  /** What the alarm does, for AlarmDescription and the README. */
  readonly description: string;
  readonly kind: 'threshold' | 'expression' | 'trend' | 'log_pattern';
  readonly metrics: readonly AlarmMetric[];
  /** Metric math over `metrics`; absent for a plain metric alarm on `metrics[0]`. */
  readonly expression?: AlarmExpression;
  /** Seconds: 10 for high resolution, else a multiple of 60. */
  readonly period: number;
  readonly comparison: ComparisonOperator;
  /** In the metric's unit for a plain metric alarm; in base units for metric math. */
  readonly threshold: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly treatMissingData: TreatMissingData;
}

/** A rule that got no alarm, and why (the stack warns with it at synth). */
export interface SkippedRule {
  readonly playbook: string;
  readonly service: string;
  readonly group: 'primary' | 'secondary';
  readonly rule: string;
  readonly reason: string;
}

/** A playbook's detection block, as the manifest or the loaded playbook carries it. */
export interface DetectionInput {
  readonly playbook: string;
  /** The playbook's default service. */
  readonly service?: string;
  readonly detection: {
    readonly primary: readonly DetectionRule[];
    readonly secondary?: readonly DetectionRule[];
  };
  /** The playbook's `variables:` (name → catalogue metric); they win over the catalogue's aliases. */
  readonly variables?: Readonly<Record<string, string>>;
}

/** A rule as written: an expression, or a one-key map (`log_pattern: "..."`, `m_trend: increasing`). */
export type DetectionRule = string | Readonly<Record<string, string | number>>;

/** Deployment values the alarms need. */
export interface DetectionOptions {
  /**
   * Services to alarm for.
   * @default [the playbook's `service`]
   */
  readonly services?: readonly string[];
  /**
   * Values of the catalogue's dimensions other than `service` (`DBInstanceIdentifier`,
   * `ReplicationGroupId`, `Cluster Name`, `Consumer Group`, `Topic`...). A rule whose metric has
   * a dimension without a value is skipped, with the dimension named.
   * @default {}
   */
  readonly dimensions?: Readonly<Record<string, string>>;
  /**
   * The application log group `log_pattern` rules filter. Without it they are skipped.
   * @default - none
   */
  readonly logGroup?: string;
}

/** A detection rule that cannot become an alarm: names the playbook, the rule and why. */
export class DetectionRuleError extends Error {
  public readonly playbook: string;
  public readonly rule: string;
  /** Why, without the playbook and rule. */
  public readonly reason: string;
  public constructor(playbook: string, rule: string, reason: string, options?: { cause?: unknown }) {
    super(`playbook ${playbook}: detection rule "${rule}" cannot become a CloudWatch alarm: ${reason}`, options);
    this.name = 'DetectionRuleError';
    this.playbook = playbook;
    this.rule = rule;
    this.reason = reason;
  }
}

/** A rule that is fine but cannot be alarmed in this deployment (a dimension or log group not configured). */
class SkipRule extends Error {
  public constructor(reason: string) {
    super(reason);
    this.name = 'SkipRule';
  }
}

interface RuleContext {
  readonly input: DetectionInput;
  readonly catalogue: MetricCatalogue;
  readonly options: DetectionOptions;
  readonly service: string;
  readonly group: 'primary' | 'secondary';
  readonly text: string;
}

/**
 * Every detection rule of a playbook as alarm specifications, one per rule and service; rules that
 * need a value the deployment does not give (a dimension, the log group) are listed in `skipped`.
 *
 * @throws DetectionRuleError for a rule no CloudWatch alarm can express (`and`/`or`, `==`, `after`,
 *   a trend or baseline the catalogue does not define, metrics of different units in one rule...).
 * @example
 * const { alarms } = detectionAlarms({ playbook: 'redis-memory-pressure', service: 'redis-cache', detection: { primary: ['redis_memory_usage > 85%'] } }, defaultCatalogue(), { dimensions: { ReplicationGroupId: 'redis-prod' } });
 * alarms[0].name // 'sre-agent/redis-memory-pressure/redis-cache/redis_memory_usage'
 */
export function detectionAlarms(input: DetectionInput, catalogue: MetricCatalogue, options: DetectionOptions = {}): { alarms: AlarmSpec[]; skipped: SkippedRule[] } {
  const services = options.services ?? (input.service ? [input.service] : []);
  if (services.length === 0) throw new DetectionRuleError(input.playbook, '(all)', 'the playbook has no `service` and no services were given to alarm for');
  const alarms: AlarmSpec[] = [];
  const skipped: SkippedRule[] = [];
  for (const service of services) {
    const names = new Map<string, number>();
    for (const group of ['primary', 'secondary'] as const) {
      for (const rule of input.detection[group] ?? []) {
        const text = ruleText(rule);
        const ctx: RuleContext = { input, catalogue, options, service, group, text };
        try {
          const spec = alarmFor(rule, ctx);
          // Two rules on one subject (a threshold and a trend of the same metric get different subjects already).
          const seen = names.get(spec.name) ?? 0;
          names.set(spec.name, seen + 1);
          alarms.push(seen === 0 ? spec : { ...spec, name: `${spec.name}-${seen + 1}` });
        } catch (err) {
          if (!(err instanceof SkipRule)) throw err;
          skipped.push({ playbook: input.playbook, service, group, rule: text, reason: err.message });
        }
      }
    }
  }
  return { alarms, skipped };
}

/** A rule as one line of text (maps as `key: value`). */
export function ruleText(rule: DetectionRule): string {
  if (typeof rule === 'string') return rule;
  return Object.entries(rule)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? JSON.stringify(v) : v}`)
    .join(', ');
}

function fail(ctx: RuleContext, reason: string): never {
  throw new DetectionRuleError(ctx.input.playbook, ctx.text, reason);
}

function alarmFor(rule: DetectionRule, ctx: RuleContext): AlarmSpec {
  if (typeof rule !== 'string') return mapRuleAlarm(rule, ctx);
  let condition: Condition;
  try {
    condition = parseCondition(rule);
  } catch (err) {
    if (err instanceof ExpressionError) throw new DetectionRuleError(ctx.input.playbook, ctx.text, err.message, { cause: err });
    throw err;
  }
  const expr = condition.expr;
  if (expr.type === 'predicate' && (expr.name === 'increasing' || expr.name === 'decreasing')) {
    if (expr.operand.type !== 'variable') fail(ctx, `'${expr.name}' applies to one metric name here, e.g. "api_error_rate increasing"`);
    if (condition.timing) fail(ctx, `a trend has its own window (catalogue trend); '${condition.timing.text}' does not apply`);
    return trendAlarm(expr.operand.name, expr.name, ctx);
  }
  if (expr.type !== 'compare') fail(ctx, `an alarm compares numbers (metric > threshold); ${expr.type === 'and' || expr.type === 'or' ? `'${expr.type}' combines two rules: write each as its own rule` : `a ${expr.type} expression is not a comparison`}`);
  if (expr.still) fail(ctx, "'still' re-checks a step condition; a detection rule has nothing to re-check");
  const comparison = COMPARISONS[expr.op];
  if (!comparison) fail(ctx, `'${expr.op}' cannot be an alarm comparison (use >, >=, < or <=)`);
  let windowSeconds: number | undefined;
  if (condition.timing) {
    if (condition.timing.kind !== 'for') fail(ctx, `'${condition.timing.text}': an alarm has no 'after'; use 'for T' (T / period datapoints out of as many)`);
    windowSeconds = condition.timing.seconds;
  }
  return compareAlarm(expr, comparison, windowSeconds, ctx);
}

/** `log_pattern: "..."` or `<metric>_trend: increasing`. */
function mapRuleAlarm(rule: Readonly<Record<string, string | number>>, ctx: RuleContext): AlarmSpec {
  const entries = Object.entries(rule);
  if (entries.length !== 1) fail(ctx, 'a map rule has exactly one key (log_pattern, or <metric>_trend)');
  const [key, value] = entries[0] as [string, string | number];
  if (key === 'log_pattern') return logPatternAlarm(String(value), ctx);
  const trend = /^([a-z][a-z0-9_]*)_trend$/.exec(key)?.[1];
  if (trend !== undefined) {
    if (value !== 'increasing' && value !== 'decreasing') fail(ctx, `${key} must be "increasing" or "decreasing", not ${JSON.stringify(value)}`);
    return trendAlarm(trend, value, ctx);
  }
  return fail(ctx, `"${key}" is neither log_pattern nor <metric>_trend`);
}

interface ResolvedMetric {
  readonly name: string;
  readonly spec: MetricSpec;
}

function resolve(name: string, ctx: RuleContext): ResolvedMetric {
  const metric = resolveMetricName(name, ctx.catalogue, ctx.input.variables);
  const spec = metric === undefined ? undefined : ctx.catalogue.metrics[metric];
  if (metric === undefined || spec === undefined) fail(ctx, `"${name}" is not a metric or alias in the metric catalogue (playbooks/metrics.yaml)`);
  return { name: metric, spec };
}

function dimensionsOf(m: ResolvedMetric, ctx: RuleContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const dim of m.spec.dimensions ?? []) {
    if (dim === 'service') {
      out[dim] = ctx.service;
      continue;
    }
    const value = ctx.options.dimensions && Object.hasOwn(ctx.options.dimensions, dim) ? ctx.options.dimensions[dim] : undefined;
    if (!value) throw new SkipRule(`metric ${m.name} is measured per ${dim}, and no value is configured for it (cdk.json "sre-agent:config" → detection.dimensions["${dim}"])`);
    out[dim] = value;
  }
  return out;
}

function alarmPeriod(metrics: readonly ResolvedMetric[]): number {
  if (metrics.every((m) => m.spec.high_resolution === true)) return HIGH_RESOLUTION_PERIOD;
  return Math.min(...metrics.map((m) => m.spec.period));
}

function metricOf(id: string, m: ResolvedMetric, ctx: RuleContext): AlarmMetric {
  return { id, metric: m.name, namespace: m.spec.namespace, metricName: m.spec.metric, dimensions: dimensionsOf(m, ctx), stat: m.spec.stat, unit: m.spec.unit, naturalPeriod: m.spec.high_resolution ? HIGH_RESOLUTION_PERIOD : m.spec.period };
}

function alarmName(ctx: RuleContext, subject: string): string {
  return `${ctx.group === 'primary' ? TRIGGER_ALARM_PREFIX : SIGNAL_ALARM_PREFIX}${ctx.input.playbook}/${ctx.service}/${subject}`;
}

function describe(ctx: RuleContext, what: string): string {
  const effect = ctx.group === 'primary' ? `starts playbook ${ctx.input.playbook}` : `corroborates playbook ${ctx.input.playbook} (starts nothing)`;
  return `sre-agent ${ctx.group} detection rule "${ctx.text}" for ${ctx.service}: ${what}; ${effect}`.slice(0, 1024);
}

/** `left OP right`: a plain metric alarm when it is `metric OP literal`, else metric math `left − right OP 0`. */
function compareAlarm(expr: Extract<Expr, { type: 'compare' }>, comparison: ComparisonOperator, windowSeconds: number | undefined, ctx: RuleContext): AlarmSpec {
  const simple = expr.left.type === 'variable' && expr.left.name !== 'baseline' && expr.right.type === 'number' ? { variable: expr.left.name, literal: expr.right } : undefined;
  if (simple) {
    const m = resolve(simple.variable, ctx);
    checkLiteralUnit(simple.literal, m, ctx);
    const period = alarmPeriod([m]);
    const { evaluationPeriods, datapointsToAlarm } = windowOf(windowSeconds, period, ctx);
    const threshold = fromBaseUnits(simple.literal.value, m.spec.unit);
    const opText = expr.op;
    return {
      name: alarmName(ctx, m.name),
      playbook: ctx.input.playbook,
      service: ctx.service,
      group: ctx.group,
      triggers: ctx.group === 'primary',
      rule: ctx.text,
      description: describe(ctx, `${m.spec.namespace} ${m.spec.metric} (${m.spec.stat}, ${period} s) ${opText} ${threshold} ${m.spec.unit}, ${datapointsToAlarm} of ${evaluationPeriods} datapoints`),
      kind: 'threshold',
      metrics: [metricOf('m1', m, ctx)],
      period,
      comparison,
      threshold,
      evaluationPeriods,
      datapointsToAlarm,
      treatMissingData: 'missing',
    };
  }

  // Metric math: every metric in base units, `left - right` compared with 0.
  const ids = new Map<string, AlarmMetric>();
  const resolved: ResolvedMetric[] = [];
  let baselineFor: ResolvedMetric | undefined;
  const variables: string[] = [];
  collectVariables(expr, variables);
  for (const v of variables) if (v !== 'baseline') resolved.push(resolve(v, ctx));
  if (variables.includes('baseline')) {
    const metrics = [...new Set(resolved.map((r) => r.name))];
    if (!ctx.catalogue.baseline) fail(ctx, 'the metric catalogue defines no `baseline`');
    if (metrics.length !== 1) fail(ctx, `\`baseline\` is the baseline of the rule's one metric, and this rule has ${metrics.length === 0 ? 'none' : metrics.join(', ')}`);
    baselineFor = resolved[0];
  }
  if (resolved.length === 0) fail(ctx, 'the rule reads no metric');
  const period = alarmPeriod(resolved);
  const toTree = (e: Expr): AlarmExpression => {
    switch (e.type) {
      case 'number':
        return { type: 'number', value: e.value };
      case 'variable': {
        const m = e.name === 'baseline' ? (baselineFor as ResolvedMetric) : resolve(e.name, ctx);
        const isBaseline = e.name === 'baseline';
        const key = isBaseline ? `baseline:${m.name}` : m.name;
        let metric = ids.get(key);
        if (!metric) {
          const base = metricOf(`${isBaseline ? 'b' : 'm'}${[...ids.values()].filter((x) => (x.baseline !== undefined) === isBaseline).length + 1}`, m, ctx);
          const def = ctx.catalogue.baseline;
          metric = isBaseline && def
            ? { ...base, namespace: BASELINE_NAMESPACE, metricName: m.name, stat: 'Average', baseline: { offsetSeconds: parseDuration(def.offset) ?? 0, windowSeconds: parseDuration(def.window) ?? 3600 } }
            : base;
          ids.set(key, metric);
        }
        let node: AlarmExpression = { type: 'metric', id: metric.id };
        if (metric.naturalPeriod > period) node = { type: 'repeat', operand: node };
        const scale = baseUnitsPerUnit(m.spec.unit);
        return scale === 1 ? node : { type: 'arithmetic', op: '*', left: node, right: { type: 'number', value: scale } };
      }
      case 'arithmetic':
        return { type: 'arithmetic', op: e.op, left: toTree(e.left), right: toTree(e.right) };
      default:
        return fail(ctx, `a ${e.type} expression cannot be part of metric math`);
    }
  };
  const tree: AlarmExpression = { type: 'arithmetic', op: '-', left: toTree(expr.left), right: toTree(expr.right) };
  checkMixedUnits(expr, ctx);
  const { evaluationPeriods, datapointsToAlarm } = windowOf(windowSeconds, period, ctx);
  const subject = resolved[0]?.name ?? 'expression';
  return {
    name: alarmName(ctx, subject),
    playbook: ctx.input.playbook,
    service: ctx.service,
    group: ctx.group,
    triggers: ctx.group === 'primary',
    rule: ctx.text,
    description: describe(ctx, `metric math ${renderExpression(tree)} ${expr.op} 0 (base units, ${period} s), ${datapointsToAlarm} of ${evaluationPeriods} datapoints`),
    kind: 'expression',
    metrics: [...ids.values()],
    expression: tree,
    period,
    comparison,
    threshold: 0,
    evaluationPeriods,
    datapointsToAlarm,
    treatMissingData: 'missing',
  };
}

function trendAlarm(name: string, direction: 'increasing' | 'decreasing', ctx: RuleContext): AlarmSpec {
  const trend = ctx.catalogue.trend;
  if (!trend) fail(ctx, 'the metric catalogue defines no `trend` (what increasing means: periods and moving)');
  const m = resolve(name, ctx);
  const period = alarmPeriod([m]);
  return {
    name: alarmName(ctx, `${m.name}_trend`),
    playbook: ctx.input.playbook,
    service: ctx.service,
    group: ctx.group,
    triggers: ctx.group === 'primary',
    rule: ctx.text,
    description: describe(ctx, `DIFF(${m.spec.namespace} ${m.spec.metric} ${m.spec.stat}) ${direction === 'increasing' ? '> 0' : '< 0'} in ${trend.moving} of ${trend.periods} periods of ${period} s`),
    kind: 'trend',
    metrics: [metricOf('m1', m, ctx)],
    expression: { type: 'diff', operand: { type: 'metric', id: 'm1' } },
    period,
    comparison: direction === 'increasing' ? 'GreaterThanThreshold' : 'LessThanThreshold',
    threshold: 0,
    evaluationPeriods: trend.periods,
    datapointsToAlarm: trend.moving,
    treatMissingData: 'missing',
  };
}

/**
 * `a|b|c` → the CloudWatch Logs filter pattern `?"a" ?"b" ?"c"` (any of the phrases). Only an
 * alternation of plain phrases converts: regular-expression syntax is refused rather than guessed.
 */
export function logFilterPattern(pattern: string): string | { error: string } {
  if (/[\\^$.*+?()[\]{}"]/.test(pattern)) return { error: `"${pattern}" holds regular-expression or quote characters; write plain phrases separated by |` };
  const phrases = pattern.split('|').map((p) => p.trim());
  if (phrases.some((p) => p === '')) return { error: `"${pattern}" has an empty alternative (|| or a | at an end)` };
  return phrases.map((p) => `?"${p}"`).join(' ');
}

function logPatternAlarm(pattern: string, ctx: RuleContext): AlarmSpec {
  const filterPattern = logFilterPattern(pattern);
  if (typeof filterPattern !== 'string') fail(ctx, `log_pattern: ${filterPattern.error}`);
  if (!ctx.options.logGroup) throw new SkipRule('log_pattern needs the application log group (cdk.json "sre-agent:config" → detection.logGroup)');
  const period = 60;
  return {
    name: alarmName(ctx, 'log_pattern'),
    playbook: ctx.input.playbook,
    service: ctx.service,
    group: ctx.group,
    triggers: ctx.group === 'primary',
    rule: ctx.text,
    description: describe(ctx, `log lines of ${ctx.options.logGroup} matching ${filterPattern} (Sum, ${period} s) > 0`),
    kind: 'log_pattern',
    metrics: [
      {
        id: 'm1',
        metric: 'log_pattern',
        namespace: LOG_PATTERN_NAMESPACE,
        metricName: `${ctx.input.playbook}-${ctx.service}`,
        dimensions: {},
        stat: 'Sum',
        unit: 'Count',
        naturalPeriod: period,
        logPattern: { pattern, filterPattern },
      },
    ],
    period,
    comparison: 'GreaterThanThreshold',
    threshold: 0,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    treatMissingData: 'missing',
  };
}

function windowOf(windowSeconds: number | undefined, period: number, ctx: RuleContext): { evaluationPeriods: number; datapointsToAlarm: number } {
  if (windowSeconds === undefined) return { evaluationPeriods: 1, datapointsToAlarm: 1 };
  const n = Math.ceil(windowSeconds / period);
  // CloudWatch: evaluation periods × period must not exceed one day.
  if (n * period > 86_400) fail(ctx, `'for' longer than a day (${n} periods of ${period} s) is more than a CloudWatch alarm can evaluate`);
  return { evaluationPeriods: n, datapointsToAlarm: n };
}

function collectVariables(e: Expr, out: string[]): void {
  if (e.type === 'variable') out.push(e.name);
  else if (e.type === 'arithmetic' || e.type === 'compare') {
    collectVariables(e.left, out);
    collectVariables(e.right, out);
  }
}

/** A unit-bearing literal must measure what its metric measures (`redis_memory_usage > 85ms` is a mistake). */
function checkLiteralUnit(literal: Extract<Expr, { type: 'number' }>, m: ResolvedMetric, ctx: RuleContext): void {
  const kind = unitKind(m.spec.unit);
  if (literal.dimension === 'time' && kind !== 'time') fail(ctx, `${literal.text} is a time, but ${m.name} is measured in ${m.spec.unit}`);
  if (literal.dimension === 'ratio' && kind !== 'ratio') fail(ctx, `${literal.text} is a percentage, but ${m.name} is measured in ${m.spec.unit}`);
  if (literal.dimension === 'none' && kind !== 'other') fail(ctx, `${literal.text} has no unit, but ${m.name} is measured in ${m.spec.unit}: write ${kind === 'time' ? `${literal.text}ms or ${literal.text}s` : `${literal.text}%`}`);
}

/** Both sides of a metric-math comparison measure the same kind of thing (times with times...). */
function checkMixedUnits(expr: Extract<Expr, { type: 'compare' }>, ctx: RuleContext): void {
  const kinds = new Set<string>();
  const visit = (e: Expr): void => {
    if (e.type === 'variable' && e.name !== 'baseline') kinds.add(unitKind(resolve(e.name, ctx).spec.unit));
    // A plain number is a factor (`* 0.8`); `200ms` and `85%` measure something.
    else if (e.type === 'number' && e.dimension !== 'none') kinds.add(e.dimension);
    else if (e.type === 'arithmetic') {
      visit(e.left);
      visit(e.right);
    }
  };
  visit(expr.left);
  visit(expr.right);
  if (kinds.size > 1) fail(ctx, `it compares metrics measured in different kinds of units (${[...kinds].join(', ')})`);
}

/** Precedence for rendering: higher binds tighter. */
function rank(e: AlarmExpression): number {
  if (e.type === 'arithmetic') return e.op === '+' || e.op === '-' ? 1 : 2;
  return 3;
}

function formatNumber(n: number): string {
  return String(Number(n.toPrecision(12)));
}

/**
 * CloudWatch metric-math text of an expression tree.
 *
 * @example renderExpression({ type: 'diff', operand: { type: 'metric', id: 'm1' } }) // 'DIFF(m1)'
 */
export function renderExpression(e: AlarmExpression): string {
  switch (e.type) {
    case 'metric':
      return e.id;
    case 'number':
      return e.value < 0 ? `(${formatNumber(e.value)})` : formatNumber(e.value);
    case 'diff':
      return `DIFF(${renderExpression(e.operand)})`;
    case 'repeat':
      return `FILL(${renderExpression(e.operand)}, REPEAT)`;
    case 'arithmetic': {
      const r = rank(e);
      const left = rank(e.left) < r ? `(${renderExpression(e.left)})` : renderExpression(e.left);
      const right = rank(e.right) <= r ? `(${renderExpression(e.right)})` : renderExpression(e.right);
      return `${left} ${e.op} ${right}`;
    }
  }
}

/**
 * The detection block of a compiled machine (statemachines/index.json), or undefined for a
 * scheduled playbook or one without detection rules.
 */
export function detectionOfMachine(machine: {
  readonly playbook: string;
  readonly service?: string;
  readonly trigger: { readonly type: string; readonly detection?: DetectionInput['detection']; readonly variables?: Readonly<Record<string, string>> };
}): DetectionInput | undefined {
  if (machine.trigger.type !== 'alarm' || !machine.trigger.detection) return undefined;
  return { playbook: machine.playbook, service: machine.service, detection: machine.trigger.detection, variables: machine.trigger.variables };
}
