/**
 * Which read-only checks a playbook's investigation runs (issue 13), derived at compile time from
 * the playbook as written: its `analysis` block (the seed's check_recent_deploys / check_resources /
 * check_dependencies / check_traffic keys, scenario 3's `steps`, scenario 1's questions with their
 * added `check`), its detection rules (the anomaly metric and its thresholds) and its steps' actions
 * (Redis, Kafka, OOM, certificates). The machine runs each in a branch of its `Investigate`
 * Parallel state; lib/analysis implements them.
 */
import { parseCondition, type Expr } from '../compiled/expression';
import { INVESTIGATION_CHECK_KINDS, type InvestigationCheckKind, type InvestigationCheckSpec, type ThresholdSpec } from '../compiled/manifest';
import { parseDuration, problemAt } from '../yaml';
import { type MetricCatalogue } from './catalogue';
import { PlaybookError, type PlaybookProblem } from './errors';
import type { LoadedPlaybook } from './loader';
import { defaultCatalogue } from './catalogue-file';

/** Each check's TimeoutSeconds: a check that takes longer is recorded as timed out, never waited for. */
export const CHECK_TIMEOUT_SECONDS = 20;
/** The conclusion (hypotheses, trend, risk, similar incidents, the timeline event). */
export const CONCLUDE_TIMEOUT_SECONDS = 30;
/** Default look-back of the deploy correlation (the seed's time_window: 30m). */
export const DEPLOY_WINDOW_SECONDS = 1800;
/** Look-back of metric checks and the trend fit. */
export const METRIC_WINDOW_SECONDS = 3600;

/** Scenario 3's analysis steps (seed) and the check that answers each. */
const DB_STEPS: Readonly<Record<string, InvestigationCheckKind>> = {
  query_per_service_connections: 'db_connections',
  check_slow_queries: 'db_connections',
  check_connection_pool_config: 'db_connections',
  correlate_with_deploys: 'recent_deploys',
};

/** The seed's scenario 2 keys holding metric lists. */
const METRIC_KEYS: Readonly<Record<string, InvestigationCheckKind>> = { check_resources: 'resources', check_dependencies: 'dependencies', check_traffic: 'traffic' };

/** A metric name, or a playbook variable / catalogue alias of one (as lib/metrics resolves it). */
function resolveMetricName(name: string, catalogue: MetricCatalogue, aliases?: Readonly<Record<string, string>>): string | undefined {
  if (Object.hasOwn(catalogue.metrics, name)) return name;
  const target = (aliases && Object.hasOwn(aliases, name) ? aliases[name] : undefined) ?? (Object.hasOwn(catalogue.aliases, name) ? catalogue.aliases[name] : undefined);
  return target !== undefined && Object.hasOwn(catalogue.metrics, target) ? target : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function strings(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
}

/** `metric > 200ms`, `metric > max_connections * 0.8`: the thresholds a rule or condition sets on a metric. */
function thresholdsIn(expr: Expr, source: string, metricOf: (name: string) => string | undefined, out: Map<string, ThresholdSpec[]>): void {
  switch (expr.type) {
    case 'and':
    case 'or':
      thresholdsIn(expr.left, source, metricOf, out);
      thresholdsIn(expr.right, source, metricOf, out);
      return;
    case 'not':
      thresholdsIn(expr.operand, source, metricOf, out);
      return;
    case 'compare': {
      if ((expr.op !== '>' && expr.op !== '>=') || expr.left.type !== 'variable') return;
      const metric = metricOf(expr.left.name);
      if (!metric) return;
      const r = expr.right;
      let t: ThresholdSpec | undefined;
      if (r.type === 'number') t = { value: r.value, source };
      else if (r.type === 'arithmetic' && r.op === '*') {
        const [v, n] = r.left.type === 'variable' ? [r.left, r.right] : [r.right, r.left];
        const of = v.type === 'variable' ? metricOf(v.name) : undefined;
        if (of && n.type === 'number') t = { factor: n.value, of, source };
      }
      if (t) out.set(metric, [...(out.get(metric) ?? []), t]);
      return;
    }
    default:
      return;
  }
}

/**
 * The checks of a playbook's investigation, in a fixed order.
 * @throws PlaybookError naming the field of an `analysis` entry that names an unknown check, step or metric
 */
export function investigationChecks(pb: LoadedPlaybook, catalogue: MetricCatalogue = defaultCatalogue()): InvestigationCheckSpec[] {
  const problems: PlaybookProblem[] = [];
  const checks: InvestigationCheckSpec[] = [];
  const add = (c: Omit<InvestigationCheckSpec, 'timeoutSeconds' | 'name'> & { name?: string }) => {
    const name = c.name ?? c.kind;
    if (checks.some((x) => x.name === name)) return;
    checks.push({ ...c, name, timeoutSeconds: CHECK_TIMEOUT_SECONDS });
  };
  const aliases = pb.spec.variables as Readonly<Record<string, string>> | undefined;
  const metricOf = (name: string) => resolveMetricName(name, catalogue, aliases);
  const service = pb.spec.service;
  const metricList = (v: unknown, path: (string | number)[]): string[] => {
    const list = strings(v);
    if (!list) {
      problems.push(problemAt(pb.source, path, 'expected a list of metric names'));
      return [];
    }
    return list.flatMap((m, i) => {
      const metric = metricOf(m);
      if (!metric) problems.push(problemAt(pb.source, [...path, i], `"${m}" is not a metric of the catalogue (playbooks/metrics.yaml) nor a playbook variable`));
      return metric ? [metric] : [];
    });
  };

  // The anomaly metric: the first primary detection metric with a threshold, for the trend and the step change at a deploy.
  if (pb.kind === 'alarm') {
    const thresholds = new Map<string, ThresholdSpec[]>();
    const ofRules = (rules: readonly unknown[]) => {
      const found: string[] = [];
      for (const rule of rules) {
        if (typeof rule !== 'string') continue;
        try {
          const before = new Set(thresholds.keys());
          thresholdsIn(parseCondition(rule).expr, rule, metricOf, thresholds);
          for (const k of thresholds.keys()) if (!before.has(k)) found.push(k);
        } catch {
          /* a trend word (`api_error_rate increasing`): no threshold */
        }
      }
      return found;
    };
    const primary = ofRules(pb.spec.detection?.primary ?? []);
    ofRules(pb.spec.detection?.secondary ?? []);
    for (const step of pb.steps) if (step.condition) thresholdsIn(step.condition.expr, step.condition.source, metricOf, thresholds);
    // A primary rule's metric with a threshold; else the metric the playbook sets the most thresholds on.
    const metric = primary[0] ?? [...thresholds.entries()].sort((x, y) => y[1].length - x[1].length)[0]?.[0];
    if (metric) add({ kind: 'anomaly_metric', metrics: [metric], thresholds: thresholds.get(metric) ?? [], windowSeconds: METRIC_WINDOW_SECONDS, ...(service ? { services: [service] } : {}) });
  }

  const analysis = pb.spec.analysis as unknown;
  let deploy: { services: string[]; windowSeconds: number } | undefined;
  if (isRecord(analysis)) {
    const recent = analysis.check_recent_deploys;
    if (recent !== undefined) {
      if (!isRecord(recent)) problems.push(problemAt(pb.source, ['analysis', 'check_recent_deploys'], 'expected { services: [...], time_window: 30m }'));
      else {
        let windowSeconds = DEPLOY_WINDOW_SECONDS;
        if (recent.time_window !== undefined) {
          const parsed = parseDuration(String(recent.time_window));
          if (parsed === undefined) problems.push(problemAt(pb.source, ['analysis', 'check_recent_deploys', 'time_window'], `"${String(recent.time_window)}" is not a duration (e.g. 30m)`));
          else windowSeconds = parsed;
        }
        deploy = { services: strings(recent.services) ?? (service ? [service] : []), windowSeconds };
      }
    }
    for (const [key, kind] of Object.entries(METRIC_KEYS)) {
      if (analysis[key] !== undefined) add({ kind, metrics: metricList(analysis[key], ['analysis', key]), windowSeconds: METRIC_WINDOW_SECONDS, ...(service ? { services: [service] } : {}) });
    }
    if (analysis.steps !== undefined) {
      const names = strings(analysis.steps) ?? [];
      names.forEach((n, i) => {
        const kind = DB_STEPS[n];
        if (!kind) problems.push(problemAt(pb.source, ['analysis', 'steps', i], `unknown analysis step "${n}" (known: ${Object.keys(DB_STEPS).join(', ')})`));
        else if (kind === 'db_connections') add({ kind, windowSeconds: DEPLOY_WINDOW_SECONDS });
        else deploy ??= { services: service ? [service] : [], windowSeconds: DEPLOY_WINDOW_SECONDS };
      });
    }
  } else if (Array.isArray(analysis)) {
    analysis.forEach((q, i) => {
      if (!isRecord(q) || q.check === undefined) return;
      const kind = String(q.check) as InvestigationCheckKind;
      if (!(INVESTIGATION_CHECK_KINDS as readonly string[]).includes(kind)) {
        problems.push(problemAt(pb.source, ['analysis', i, 'check'], `unknown check "${kind}" (known: ${INVESTIGATION_CHECK_KINDS.join(', ')})`));
        return;
      }
      const question = typeof q.question === 'string' ? { question: q.question } : {};
      if (kind === 'traffic_vs_cpu') add({ kind, metrics: ['alb_active_connections', 'api_request_rate', 'pod_cpu_usage'], windowSeconds: METRIC_WINDOW_SECONDS, ...(service ? { services: [service] } : {}), ...question });
      else if (kind === 'pair_distribution') {
        const pairs = strings(q.pairs);
        if (!pairs || pairs.length === 0) problems.push(problemAt(pb.source, ['analysis', i, 'pairs'], `pair_distribution needs the trading pairs to compare, e.g. [BTC-USDT, ETH-USDT]`));
        else add({ kind, metrics: ['pair_request_rate'], pairs, windowSeconds: METRIC_WINDOW_SECONDS, ...question });
      } else if (kind === 'capacity') {
        // The deployments the playbook scales (patch_hpa_max / kubectl_scale), else the service.
        const scaled = pb.steps.filter((s) => s.action.name === 'patch_hpa_max' || s.action.name === 'kubectl_scale').map((s) => String(s.params.deployment)).filter((d) => !d.includes('{{'));
        add({ kind, services: scaled.length ? [...new Set(scaled)] : service ? [service] : [], ...question });
      } else add({ kind, ...(service ? { services: [service] } : {}), ...question });
    });
  }
  // Every alarm-triggered scenario asks whether a deploy explains it (seed scenario 2 question 1).
  if (pb.kind === 'alarm' && !deploy && service) deploy = { services: [service], windowSeconds: DEPLOY_WINDOW_SECONDS };
  if (deploy && deploy.services.length > 0) add({ kind: 'recent_deploys', services: deploy.services, windowSeconds: deploy.windowSeconds });

  const actions = new Set(pb.steps.map((s) => s.action.name));
  if (actions.has('redis_analysis')) add({ kind: 'redis_memory' });
  if (actions.has('kafka_admin')) add({ kind: 'kafka_lag', ...(service ? { services: [service] } : {}) });
  const detectionText = JSON.stringify(pb.spec.detection ?? {});
  if (/pod_oom_killed|pod_restart_count/.test(detectionText) || actions.has('kubectl_patch')) {
    add({ kind: 'pod_health', metrics: ['pod_memory_usage'], windowSeconds: METRIC_WINDOW_SECONDS, ...(service ? { services: [service] } : {}) });
  }
  if (actions.has('check_certificates')) add({ kind: 'certificates' });

  if (problems.length > 0) throw new PlaybookError(problems);
  return checks;
}
