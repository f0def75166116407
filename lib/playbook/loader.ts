/**
 * Loads a playbook file: YAML with positions → schema → registry lookups → expressions and
 * conditions parsed, every variable checked against what the step can know. All problems are
 * collected and thrown together as one PlaybookError (file:line:column: field: message).
 */
import { findAction, type ActionDefinition } from '../actions';
import type { Risk } from '../policy/types';
import { type MetricCatalogue } from './catalogue';
import { formatDuration, parseDuration, problemAt, type FieldPath } from '../yaml';
import { parseYamlSource, readYamlSource, type YamlSource } from '../yaml/source';
import { ExpressionError, PlaybookError, type PlaybookProblem } from './errors';
import { isTemplate, parseCondition, parseExpression, parseTemplate, variableRefs, type Condition, type VariableRef } from '../compiled/expression';
import { playbookSchema, type PlaybookSpec, type StepSpec } from './schema';
import { defaultCatalogue } from './catalogue-file';

/** Variables every execution has, from the incident and its alarm. */
export const BUILTIN_VARIABLES = ['service', 'deployment', 'incident_id', 'playbook', 'severity', 'alarm_name', 'alarm_reason'] as const;

/** Seed §4.1: level 2 on-call SRE 5-15 min, level 3 team lead 15-30 min, level 4 director + CTO 30+ min. */
export const DEFAULT_ESCALATION_SECONDS = { oncall_sre: 600, team_lead: 900, director: 1800 } as const;
export const DEFAULT_MAX_DURATION_SECONDS = 12 * 3600;
export const DEFAULT_APPROVERS = ['oncall_sre'] as const;

export interface LoadedStep {
  readonly index: number;
  readonly spec: StepSpec;
  readonly action: ActionDefinition<Record<string, unknown>>;
  /** Parameters after the action's schema (defaults filled). */
  readonly params: Record<string, unknown>;
  readonly condition?: Condition;
  /** For `after step N` / `after <name>`: the earlier step the condition waits for. */
  readonly afterStep?: string;
  readonly risk: Risk;
  /** `auto`: runs on its own; `approval`: waits for approvers. Decided by the safe-default rule. */
  readonly mode: 'auto' | 'approval';
  /** Why the mode is what it is, for `plan`. */
  readonly modeReason: string;
  readonly approvers: readonly string[];
  readonly minApprovals: number;
  readonly timeoutSeconds: number;
  /** Variables the step may use: builtins, catalogue, playbook variables, earlier outputs. */
  readonly known: ReadonlySet<string>;
}

export interface LoadedPlaybook {
  readonly file: string;
  readonly source: YamlSource;
  readonly spec: PlaybookSpec;
  readonly name: string;
  readonly kind: 'alarm' | 'schedule';
  readonly steps: readonly LoadedStep[];
  readonly escalationSeconds: { readonly oncall_sre: number; readonly team_lead: number; readonly director: number };
  readonly maxDurationSeconds: number;
}

export interface LoadOptions {
  /** Global escalation windows in seconds (playbooks/policy.yaml `escalation`). @default DEFAULT_ESCALATION_SECONDS */
  readonly escalation?: { readonly oncall_sre: number; readonly team_lead: number; readonly director: number };
  /** @default playbooks/metrics.yaml */
  readonly catalogue?: MetricCatalogue;
}

export function loadPlaybook(file: string, options: LoadOptions = {}): LoadedPlaybook {
  return buildPlaybook(readYamlSource(file), options);
}

export function loadPlaybookText(file: string, text: string, options: LoadOptions = {}): LoadedPlaybook {
  return buildPlaybook(parseYamlSource(file, text), options);
}

function buildPlaybook(src: YamlSource, options: LoadOptions): LoadedPlaybook {
  const problems: PlaybookProblem[] = [];
  const at = (path: FieldPath, message: string, opts?: { atKey?: boolean; offset?: number }) => problems.push(problemAt(src, path, message, opts));

  const parsed = playbookSchema.safeParse(src.value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) at([...(issue.path as FieldPath), key], `${stepLabel(src.value, issue.path as FieldPath)}unknown field "${key}"`, { atKey: true });
      } else {
        at(issue.path as FieldPath, `${stepLabel(src.value, issue.path as FieldPath)}${(issue.code === 'invalid_type' && missingField(src.value, issue.path as FieldPath)) || issue.message}`);
      }
    }
    throw new PlaybookError(problems);
  }
  const spec = parsed.data;
  const catalogue = options.catalogue ?? defaultCatalogue();

  const names = new Map<string, number>();
  spec.steps.forEach((s, i) => {
    if (names.has(s.name)) at(['steps', i, 'name'], `duplicate step name "${s.name}" (also steps[${names.get(s.name)}])`);
    else names.set(s.name, i);
  });
  for (const [alias, metric] of Object.entries(spec.variables ?? {})) {
    if (!(metric in catalogue.metrics)) at(['variables', alias], `"${metric}" is not in the metric catalogue (playbooks/metrics.yaml)`);
  }

  const known = new Set<string>([...BUILTIN_VARIABLES, ...Object.keys(catalogue.metrics), ...Object.keys(catalogue.aliases), ...Object.keys(spec.variables ?? {})]);
  const metricNames = new Set<string>([...Object.keys(catalogue.metrics), ...Object.keys(catalogue.aliases), ...Object.keys(spec.variables ?? {})]);
  const steps: LoadedStep[] = [];
  spec.steps.forEach((step, index) => {
    const path: FieldPath = ['steps', index];
    const here = `step "${step.name}"`;
    const stepKnown = new Set(known);
    const action = findAction(step.action);
    if (!action) {
      at([...path, 'action'], `unknown action "${step.action}" (see lib/actions for the registry)`);
      return;
    }
    // Params against the action's own schema.
    const paramsResult = action.params.safeParse(step.params ?? {});
    let params: Record<string, unknown> = {};
    if (!paramsResult.success) {
      for (const issue of paramsResult.error.issues) {
        if (issue.code === 'unrecognized_keys') {
          for (const key of issue.keys) at([...path, 'params', ...(issue.path as FieldPath), key], `unknown parameter "${key}" for action ${action.name}`, { atKey: true });
        } else {
          at([...path, 'params', ...(issue.path as FieldPath)], `${action.name}: ${(issue.code === 'invalid_type' && missingField(step.params ?? {}, issue.path as FieldPath, 'parameter')) || issue.message}`);
        }
      }
    } else {
      params = paramsResult.data as Record<string, unknown>;
    }
    // An action resolves its parameters from stored state (the incident, earlier steps' outputs),
    // never from metrics: those are for conditions and approval messages.
    const paramKnown = new Set([...stepKnown].filter((v) => !metricNames.has(v)));
    const metricHint = (m: string) => {
      const name = /^unknown variable "([^"]+)"/.exec(m)?.[1];
      return name && metricNames.has(name) ? `${m} (a metric: action parameters resolve from the incident and earlier steps' outputs; metrics are for conditions and approval messages)` : m;
    };
    checkParamExpressions(step, action, paramKnown, (p, m, o) => at([...path, 'params', ...p], `${here}: ${metricHint(m)}`, o));

    let condition: Condition | undefined;
    let afterStep: string | undefined;
    if (step.condition !== undefined) {
      try {
        condition = parseCondition(step.condition);
        for (const v of unknownRefs(condition, stepKnown)) {
          at([...path, 'condition'], `${here}: unknown variable "${v.name}" in the condition (not a builtin, metric, playbook variable or output of an earlier step)`, { offset: v.offset });
        }
        if (condition.timing?.kind === 'after_step') {
          // The timing clause ends the condition: point at its `after`.
          const clause = step.condition.search(/\bafter\s+(?:step\s+)?\S+\s*$/);
          afterStep = resolveAfterStep(condition.timing.step, index, spec.steps, (m) => at([...path, 'condition'], `${here}: ${m}`, { offset: Math.max(clause, 0) }));
        }
      } catch (err) {
        if (!(err instanceof ExpressionError)) throw err;
        at([...path, 'condition'], `${here}: condition: ${err.message}`, { offset: err.offset });
      }
    }
    if (step.approval_message !== undefined) {
      checkTemplate(step.approval_message, stepKnown, [], (m, o) => at([...path, 'approval_message'], `${here}: approval_message: ${m}`, { offset: o }));
    }

    const risk = step.risk ?? action.defaultRisk;
    const { mode, reason } = decideMode(step, action);
    const timeoutSeconds = step.timeout ? parseDuration(step.timeout)! : action.timeoutSeconds;
    if (step.timeout && !isTaskTimeout(timeoutSeconds)) at([...path, 'timeout'], `${here}: timeout ${step.timeout} is not a whole number of seconds of at least 1s (Step Functions TimeoutSeconds)`);
    // The action's Lambda stops at its own timeout: a longer step would report a timeout the Task never sees.
    else if (timeoutSeconds > action.timeoutSeconds) at([...path, 'timeout'], `${here}: timeout ${step.timeout} is longer than ${action.name}'s ${formatDuration(action.timeoutSeconds)} (its Lambda's timeout); use at most ${formatDuration(action.timeoutSeconds)}`);
    const approvers = step.approvers ?? [...DEFAULT_APPROVERS];
    if (step.min_approvals !== undefined && step.min_approvals > approvers.length) {
      at([...path, 'min_approvals'], `${here}: min_approvals ${step.min_approvals} is more than the ${approvers.length} approver role(s) listed`);
    }
    steps.push({
      index,
      spec: step,
      action,
      params,
      condition,
      afterStep,
      risk,
      mode,
      modeReason: reason,
      approvers,
      minApprovals: step.min_approvals ?? approvers.length,
      timeoutSeconds,
      known: stepKnown,
    });
    for (const out of action.outputs) known.add(out);
  });

  for (const [level, text] of Object.entries(spec.escalation ?? {})) {
    if (text !== undefined && !isTaskTimeout(parseDuration(text)!)) at(['escalation', level], `escalation.${level} ${text} is not a whole number of seconds of at least 1s (it becomes the approval Task's TimeoutSeconds)`);
  }
  if (spec.trigger === 'daily_check' && spec.detection) at(['detection'], 'a daily_check playbook runs on a schedule; detection rules (alarms) do not apply');
  checkDetectionRules(spec, catalogue, (p, m, o) => at(['detection', ...p], m, o));
  if (spec.schedule && spec.trigger !== 'daily_check') at(['schedule'], 'schedule is only for trigger: daily_check');

  if (problems.length > 0) throw new PlaybookError(problems);
  const esc = spec.escalation ?? {};
  const global = options.escalation ?? DEFAULT_ESCALATION_SECONDS;
  return {
    file: src.file,
    source: src,
    spec,
    name: spec.playbook,
    kind: spec.trigger === 'daily_check' ? 'schedule' : 'alarm',
    steps,
    escalationSeconds: {
      oncall_sre: esc.oncall_sre ? parseDuration(esc.oncall_sre)! : global.oncall_sre,
      team_lead: esc.team_lead ? parseDuration(esc.team_lead)! : global.team_lead,
      director: esc.director ? parseDuration(esc.director)! : global.director,
    },
    maxDurationSeconds: spec.max_duration ? parseDuration(spec.max_duration)! : DEFAULT_MAX_DURATION_SECONDS,
  };
}

/**
 * The safe-default rule (DESIGN.md): explicit `requires_approval`/`auto_execute` win; a step that
 * sets neither runs on its own only when its action is a diagnostic, a notification or a ticket.
 * Whether an explicit `auto_execute: true` is allowed is the policy check's business.
 */
export function decideMode(step: StepSpec, action: ActionDefinition<Record<string, unknown>>): { mode: 'auto' | 'approval'; reason: string } {
  if (step.requires_approval === true) return { mode: 'approval', reason: 'requires_approval: true' };
  if (step.auto_execute === true) return { mode: 'auto', reason: 'auto_execute: true' };
  if (action.kind !== 'remediation' && !action.mutates) return { mode: 'auto', reason: `safe default: ${action.kind} action` };
  return { mode: 'approval', reason: 'safe default: mutating action without auto_execute' };
}

function resolveAfterStep(ref: number | string, index: number, steps: readonly StepSpec[], fail: (m: string) => void): string | undefined {
  if (typeof ref === 'number') {
    if (ref < 1 || ref > index) {
      fail(`"after step ${ref}" must name an earlier step (1..${index})`);
      return undefined;
    }
    return steps[ref - 1].name;
  }
  const named = steps.findIndex((s) => s.name === ref);
  if (named >= index) {
    fail(`"after ${ref}" names step ${named + 1}, which does not come before this one`);
    return undefined;
  }
  // Not a step name: an event word such as "cleanup" means the step just before this one.
  if (named < 0) {
    if (index === 0) {
      fail(`"after ${ref}": the first step has no earlier step to wait for`);
      return undefined;
    }
    return steps[index - 1].name;
  }
  return ref;
}

function checkParamExpressions(
  step: StepSpec,
  action: ActionDefinition<Record<string, unknown>>,
  known: ReadonlySet<string>,
  fail: (path: FieldPath, message: string, opts?: { offset?: number }) => void,
): void {
  for (const [key, value] of Object.entries(step.params ?? {})) {
    const locals = action.locals?.[key] ?? [];
    if (action.expressionParams?.includes(key) && typeof value === 'string' && !isTemplate(value)) {
      try {
        const expr = parseExpression(value);
        for (const v of unknownRefs(expr, known, locals)) {
          fail([key], `unknown variable "${v.name}" in parameter ${key}${locals.length ? ` (this parameter offers ${locals.join(', ')})` : ''}`, { offset: v.offset });
        }
      } catch (err) {
        if (!(err instanceof ExpressionError)) throw err;
        fail([key], err.message, { offset: err.offset });
      }
      continue;
    }
    walkStrings(value, [key], (str, p) => checkTemplate(str, known, locals, (m, o) => fail(p, m, { offset: o })));
  }
}

function checkTemplate(text: string, known: ReadonlySet<string>, locals: readonly string[], fail: (m: string, offset?: number) => void): void {
  if (!isTemplate(text)) return;
  try {
    const t = parseTemplate(text);
    for (const part of t.parts) {
      if (typeof part === 'string') continue;
      for (const v of unknownRefs(part.expr, known, locals)) fail(`unknown variable "${v.name}" in {{${part.source.trim()}}}`, v.offset);
    }
  } catch (err) {
    if (!(err instanceof ExpressionError)) throw err;
    fail(err.message, err.offset);
  }
}

/** First use of each variable that is neither known nor a local, with where it is. */
function unknownRefs(node: Parameters<typeof variableRefs>[0], known: ReadonlySet<string>, locals: readonly string[] = []): VariableRef[] {
  const seen = new Set<string>();
  return variableRefs(node).filter((r) => !known.has(r.name) && !locals.includes(r.name) && !seen.has(r.name) && seen.add(r.name));
}

/** `step "name": ` for a schema problem inside a step that has a readable name, so the message says which step. */
function stepLabel(value: unknown, path: FieldPath): string {
  if (path[0] !== 'steps' || typeof path[1] !== 'number') return '';
  const name = ((value as { steps?: { name?: unknown }[] }).steps?.[path[1]] ?? {}).name;
  return typeof name === 'string' ? `step "${name}": ` : '';
}

/** Step Functions TimeoutSeconds: a positive whole number. */
function isTaskTimeout(seconds: number): boolean {
  return Number.isInteger(seconds) && seconds >= 1;
}

/** `missing required field "steps"` when the schema issue is about a field the file does not have. */
function missingField(value: unknown, path: FieldPath, noun: 'field' | 'parameter' = 'field'): string | undefined {
  if (path.length === 0) return undefined;
  let node: unknown = value;
  for (const part of path.slice(0, -1)) node = node && typeof node === 'object' ? (node as Record<string | number, unknown>)[part] : undefined;
  const last = path[path.length - 1];
  if (!node || typeof node !== 'object' || Array.isArray(node) || Object.prototype.hasOwnProperty.call(node, last)) return undefined;
  return `missing required ${noun} "${String(last)}"`;
}

/**
 * Detection rules are conditions over metrics: every name in them must be a metric, an alias, a
 * playbook variable or `baseline` (when the catalogue defines it). A one-key map is the seed's
 * prose form: `<metric>_trend: increasing` must name a metric; `log_pattern` is kept as written.
 */
function checkDetectionRules(spec: PlaybookSpec, catalogue: MetricCatalogue, fail: (path: FieldPath, message: string, opts?: { offset?: number }) => void): void {
  const known = new Set<string>([...Object.keys(catalogue.metrics), ...Object.keys(catalogue.aliases), ...Object.keys(spec.variables ?? {}), ...(catalogue.baseline ? ['baseline'] : [])]);
  for (const group of ['primary', 'secondary'] as const) {
    (spec.detection?.[group] ?? []).forEach((rule, i) => {
      if (typeof rule !== 'string') {
        for (const key of Object.keys(rule)) {
          const trend = /^([a-z][a-z0-9_]*)_trend$/.exec(key)?.[1];
          if (trend !== undefined && !known.has(trend)) fail([group, i, key], `"${trend}" (of ${key}) is not a metric, alias or playbook variable`);
        }
        return;
      }
      try {
        for (const v of unknownRefs(parseCondition(rule), known)) {
          fail([group, i], `unknown variable "${v.name}" in the detection rule (not a metric, alias, playbook variable${catalogue.baseline ? ' or baseline' : ''}; see playbooks/metrics.yaml)`, { offset: v.offset });
        }
      } catch (err) {
        if (!(err instanceof ExpressionError)) throw err;
        fail([group, i], `detection rule: ${err.message}`, { offset: err.offset });
      }
    });
  }
}

/** Calls `visit` for every string inside a parameter value, with its path. */
export function walkStrings(value: unknown, path: FieldPath, visit: (s: string, path: FieldPath) => void): void {
  if (typeof value === 'string') visit(value, path);
  else if (Array.isArray(value)) value.forEach((v, i) => walkStrings(v, [...path, i], visit));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walkStrings(v, [...path, k], visit);
}
