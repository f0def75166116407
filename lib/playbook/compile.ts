/**
 * Compiles a loaded playbook to Amazon States Language (JSONPath). Per step:
 *   [condition: Wait → Evaluate → Choice] → [breaker gate] → [approval L2 → L3 → L4, each a
 *   waitForTaskToken Task whose timeout escalates one level] → action Task (Retry on transient
 *   errors, Catch → refused / failed) ; end: verify recovery → resolve or escalate → report.
 * Lambda ARNs are `${...}` placeholders filled by CDK DefinitionSubstitutions.
 */
import { TRANSIENT_ERROR_NAMES } from '../actions/errors';
import { canonicalJson, sha256, type Policy } from '../policy';
import { formatDuration, problemAt } from '../yaml';
import { PlaybookError, StateGraphError, type PlaybookProblem } from './errors';
import { formatCondition } from '../compiled/expression';
import type { LoadedPlaybook, LoadedStep } from './loader';
import { actionFunctionKey, CORE_FUNCTIONS, type CompiledStep, type MachineManifest } from '../compiled/manifest';
import { countTransitions } from './graph';
import { checkPlaybookSafety, deriveBounds } from './safety';
import { CONCLUDE_TIMEOUT_SECONDS, investigationChecks } from './investigation';
import type { InvestigationCheckSpec } from '../compiled/manifest';
import { actionPayload, corePayload, type CorePayloadKey, type EmittedCorePayload, type PayloadTemplate, type TemplateOf } from '../compiled/payload';

export type AslState = Record<string, unknown> & { Type: string };
export interface Asl {
  Comment: string;
  StartAt: string;
  TimeoutSeconds: number;
  States: Record<string, AslState>;
}

export interface CompiledMachine {
  readonly asl: Asl;
  readonly manifest: MachineManifest;
  /** Worst-case duration of one execution, in seconds (the machine's TimeoutSeconds before margin). */
  readonly worstCaseSeconds: number;
}

/** Seconds every core Lambda Task may take. */
export const CORE_TASK_TIMEOUT = 60;
/** Wait before checking that the incident recovered, so metrics reflect the last action. */
export const VERIFY_SETTLE_SECONDS = 120;
/**
 * How long a condition `... after <step>` waits, once, for its metrics to show a datapoint newer
 * than the step: two standard CloudWatch periods (a datapoint of a 60 s metric usually lands
 * within one or two). Still none then: the step is skipped, as for no data.
 */
export const FRESH_DATA_WAIT_SECONDS = 120;
/** Step Functions' own limit on a Standard execution. */
export const AWS_MAX_EXECUTION_SECONDS = 365 * 86400;

const RETRY_TRANSIENT = { ErrorEquals: [...TRANSIENT_ERROR_NAMES], IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 };
/** Worst case of one Task with RETRY_TRANSIENT: four attempts plus the back-off waits (2 + 4 + 8 s). */
function withRetries(timeout: number): number {
  return timeout * (RETRY_TRANSIENT.MaxAttempts + 1) + 14;
}

const LEVELS = [
  { level: 2, key: 'oncall_sre', label: 'on-call SRE' },
  { level: 3, key: 'team_lead', label: 'team lead' },
  { level: 4, key: 'director', label: 'director + CTO' },
] as const;

const END = {
  settle: 'Wait before verifying',
  verify: 'Verify recovery',
  recovered: 'Recovered?',
  resolve: 'Resolve incident',
  close: 'Close check',
  escalate: 'Escalate incident',
  report: 'Write report',
  done: 'Done',
} as const;
const START = 'Start incident';
/** The investigation's states (issue 13): the checks in parallel, then the conclusion. */
export const INVESTIGATION_STATES = { parallel: 'Investigate', conclude: 'Conclude investigation', failed: 'Investigation failed' } as const;
const INV = INVESTIGATION_STATES;

/**
 * One branch of the Investigate Parallel state: the check's Task, bounded by its own TimeoutSeconds
 * and never retried (a slow system is recorded as timed out, not waited for), whose failure or
 * timeout becomes a result of its own so the other checks and the incident go on.
 */
function investigationBranch(check: InvestigationCheckSpec): Asl {
  const task = `Investigate: ${check.name}`;
  const failed = `${task}: failed`;
  const timedOut = `${task}: timed out`;
  return {
    StartAt: task,
    States: {
      [task]: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: { FunctionName: `\${${CORE_FUNCTIONS.investigate}}`, Payload: corePayload('Fn_investigate:check', { op: 'check', check: check.name, ...CONTEXT_REFS }) },
        TimeoutSeconds: check.timeoutSeconds,
        OutputPath: '$.Payload',
        Catch: [
          { ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: timedOut },
          { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: failed },
        ],
        End: true,
      },
      [timedOut]: { Type: 'Pass', Parameters: { name: check.name, status: 'timed_out', 'error.$': '$.error' }, End: true },
      [failed]: { Type: 'Pass', Parameters: { name: check.name, status: 'failed', 'error.$': '$.error' }, End: true },
    },
  } as unknown as Asl;
}
/** The states of level 4's recovery checks. */
export const L4_STATES = {
  report: 'Write report at L4',
  wait: 'Wait: recovery check at L4',
  check: 'Recovered yet at L4?',
  recovered: 'Recovered at L4 check?',
  count: 'Count L4 recovery checks',
  more: 'More L4 recovery checks?',
} as const;
const L4 = L4_STATES;
/** At most this many recovery checks at level 4 (a day of 30-minute windows). */
export const MAX_L4_RECOVERY_CHECKS = 48;

/** ASL's limit on a state's name, in Unicode characters (code points). */
export const MAX_STATE_NAME = 80;

/**
 * Why `name` cannot name an ASL state, or undefined when it can: at most 80 Unicode characters, no
 * control or invisible format characters (C0, C1, U+FEFF, bidi controls: the console would show a
 * name other than the one stored), no surrounding spaces.
 */
export function aslNameProblem(name: string): string | undefined {
  const length = [...name].length;
  if (length === 0) return 'is empty';
  if (length > MAX_STATE_NAME) return `is ${length} characters long; ASL allows ${MAX_STATE_NAME}`;
  const bad = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.exec(name);
  if (bad) return `holds the control or format character U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  if (name !== name.trim()) return 'starts or ends with a space';
  return undefined;
}

export function stateNames(name: string) {
  return {
    wait: `${name}: wait`,
    check: `${name}: check condition`,
    met: `${name}: condition met?`,
    waitAgain: `${name}: wait for the window`,
    waitFresh: `${name}: wait for fresh data`,
    checkAgain: `${name}: check condition again`,
    metAgain: `${name}: condition held?`,
    gate: `${name}: breaker gate`,
    gateOpen: `${name}: automation allowed?`,
    approval: (level: number, label: string) => `${name}: approval L${level} (${label})`,
    escalate: (level: number) => `${name}: escalate to L${level}`,
    expired: `${name}: approval expired`,
    rejected: `${name}: rejected`,
    notRun: `${name}: not run`,
    action: name,
    refused: `${name}: refused`,
    failed: `${name}: failed`,
  };
}

function lambdaTask(fn: string, payload: Record<string, unknown>, extra: Record<string, unknown>): AslState {
  return {
    Type: 'Task',
    Resource: 'arn:aws:states:::lambda:invoke',
    Parameters: { FunctionName: `\${${fn}}`, Payload: payload },
    TimeoutSeconds: CORE_TASK_TIMEOUT,
    Retry: [RETRY_TRANSIENT],
    ...extra,
  };
}

const CONTEXT_REFS = { 'incident.$': '$.incident', 'context.$': '$.context', 'steps.$': '$.run.steps' } as const;

/** The fields of a core payload but the execution's refs (CONTEXT_REFS), as the contract types them. */
type CoreFields<K extends CorePayloadKey> = Omit<EmittedCorePayload<K>, 'incident' | 'context' | 'steps'>;

/**
 * A core Task calling `key` (`Fn_breaker:gate`: `${Fn_breaker}` with op `gate`): its payload's
 * fields are typed by the contract (lib/compiled/payload), the execution's refs appended.
 */
function core<K extends Exclude<CorePayloadKey, 'Fn_incident:start'>, const P extends PayloadTemplate<CoreFields<K>>>(key: K, payload: TemplateOf<CoreFields<K>, P>, extra: Record<string, unknown>): AslState {
  return lambdaTask(key.slice(0, key.indexOf(':')), { ...payload, ...CONTEXT_REFS }, extra);
}

/** Records a timeline event and goes on; used for skipped, refused, rejected and expired steps. */
function record(event: string, step: string, next: string): AslState {
  return core('Fn_incident:record', { op: 'record', event, step, 'error.$': `$.run.errors.${step}` }, { ResultPath: null, Next: next });
}

function stepComment(step: LoadedStep): string {
  const parts = [`risk ${step.risk}`, step.action.mutates ? 'mutating' : 'read-only', step.mode === 'approval' ? `approval by ${step.approvers.join(' + ')}` : 'automatic'];
  if (step.condition) parts.push(`when ${formatCondition(step.condition)}`);
  if (step.spec.on_fail === 'skip') parts.push('on_fail: skip');
  return parts.join(' · ');
}

export interface CompileOptions {
  /** Path of the playbook relative to the repository root, for the Comment and the manifest. */
  readonly sourcePath: string;
  /** @default `statemachines/<playbook>.asl.json` */
  readonly outputPath?: string;
}

/** Content hash of a playbook: sha256 of its canonical JSON (comments, key order and layout do not count). */
export function playbookHash(pb: LoadedPlaybook): string {
  return sha256(canonicalJson(pb.spec));
}

/** The steps as the runtime guard enforces them (bundled with every function in the manifest). */
export function compiledSteps(pb: LoadedPlaybook): CompiledStep[] {
  return pb.steps.map((step) => ({
    name: step.spec.name,
    action: step.action.name,
    kind: step.action.kind,
    mutates: step.action.mutates,
    mode: step.mode,
    risk: step.risk,
    approvers: step.mode === 'approval' ? step.approvers : [],
    minApprovals: step.mode === 'approval' ? step.minApprovals : 0,
    params: step.params,
    expressionParams: step.action.expressionParams ?? [],
    locals: step.action.locals ?? {},
    targets: step.action.targets?.(step.params) ?? [],
    bounds: deriveBounds(step),
    onFail: step.spec.on_fail ?? 'abort',
    timeoutSeconds: step.timeoutSeconds,
    ...(step.condition !== undefined ? { condition: step.condition.source } : {}),
    ...(step.afterStep !== undefined ? { afterStep: step.afterStep } : {}),
    ...(step.spec.approval_message !== undefined ? { approvalMessage: step.spec.approval_message } : {}),
    ...(step.spec.note !== undefined ? { note: step.spec.note } : {}),
  }));
}

export function compilePlaybook(pb: LoadedPlaybook, policy: Policy, options: CompileOptions): CompiledMachine {
  const safety = checkPlaybookSafety(pb, policy);
  if (safety.length > 0) throw new PlaybookError(safety);
  const hash = playbookHash(pb);

  const states: Record<string, AslState> = {};
  let worst = 0;
  const investigation = investigationChecks(pb);
  const add = (name: string, state: AslState) => {
    if (name in states) throw new StateGraphError(`compiler bug: duplicate state "${name}"`, name);
    const problem = aslNameProblem(name);
    if (problem) throw new StateGraphError(`compiler bug: state "${name}" ${problem}`, name);
    states[name] = state;
  };
  const entryOf = (i: number): string => {
    if (i < pb.steps.length) {
      const s = pb.steps[i];
      const n = stateNames(s.spec.name);
      if (s.condition && s.condition.timing?.kind === 'after') return n.wait;
      if (s.condition) return n.check;
      if (s.action.mutates) return n.gate;
      if (s.mode === 'approval') return n.approval(2, LEVELS[0].label);
      return n.action;
    }
    return pb.kind === 'alarm' ? END.settle : END.close;
  };

  // The execution's name and ARN: a run started by a schedule (not named after an incident) is
  // tied to the incident it opens, so that its end can be recorded on it.
  add(START, lambdaTask(CORE_FUNCTIONS.incident, corePayload('Fn_incident:start', { op: 'start', playbook: pb.name, playbook_hash: hash, kind: pb.kind, service: pb.spec.service ?? null, risk: pb.spec.risk, 'input.$': '$', 'execution.$': '$$.Execution.Name', 'executionArn.$': '$$.Execution.Id' }), {
    Comment: 'Opens (or joins) the incident and builds the execution context',
    ResultSelector: {
      'incident.$': '$.Payload.incident',
      'context.$': '$.Payload.context',
      run: { steps: {}, checks: {}, gates: {}, approvals: {}, errors: {}, l4: { checks: 0 } },
    },
    // No ResultPath: the default ("$") replaces the state with the selected result.
    Next: investigation.length > 0 ? INV.parallel : entryOf(0),
  }));
  worst += withRetries(CORE_TASK_TIMEOUT);

  if (investigation.length > 0) {
    // Read-only checks in parallel, each bounded; their results are data, never a step failure.
    add(INV.parallel, {
      Type: 'Parallel',
      Comment: `Investigation (read-only): ${investigation.map((c) => c.name).join(', ')}`,
      Branches: investigation.map(investigationBranch),
      ResultPath: '$.investigation',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.run.errors.investigate', Next: INV.failed }],
      Next: INV.conclude,
    });
    add(INV.conclude, lambdaTask(CORE_FUNCTIONS.investigate, corePayload('Fn_investigate:conclude', { op: 'conclude', playbook: pb.name, 'checks.$': '$.investigation', ...CONTEXT_REFS }), {
      Comment: 'Ranked hypotheses, trend, risk and similar incidents on the timeline: investigation complete (MTTI)',
      TimeoutSeconds: CONCLUDE_TIMEOUT_SECONDS,
      // The check results are replaced by the conclusion's summary: the execution's state stays small.
      ResultSelector: { 'completedAt.$': '$.Payload.completedAt', 'top.$': '$.Payload.top' },
      ResultPath: '$.investigation',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.run.errors.investigate', Next: INV.failed }],
      Next: entryOf(0),
    }));
    add(INV.failed, record('investigation_failed', 'investigate', entryOf(0)));
    worst += Math.max(...investigation.map((c) => c.timeoutSeconds)) + withRetries(CONCLUDE_TIMEOUT_SECONDS) + withRetries(CORE_TASK_TIMEOUT);
  }

  pb.steps.forEach((step, i) => {
    const name = step.spec.name;
    const n = stateNames(name);
    const skip = entryOf(i + 1);
    const afterCondition = step.action.mutates ? n.gate : step.mode === 'approval' ? n.approval(2, LEVELS[0].label) : n.action;
    const afterGate = step.mode === 'approval' ? n.approval(2, LEVELS[0].label) : n.action;
    const common = { step: name, action: step.action.name };
    let needsNotRun = false;

    if (step.condition) {
      const timing = step.condition.timing;
      const source = step.condition.source;
      const check = (next: string) =>
        core('Fn_evaluate:condition', { op: 'condition', ...common, condition: source, timing: timing ?? null, after_step: step.afterStep ?? null }, {
          ResultSelector: { 'result.$': '$.Payload.result', 'values.$': '$.Payload.values' },
          ResultPath: `$.run.checks.${name}`,
          Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: `$.run.errors.${name}`, Next: n.notRun }],
          Next: next,
          Comment: `Evaluates: ${formatCondition(step.condition!)}`,
        });
      needsNotRun = true;
      if (timing?.kind === 'after') {
        add(n.wait, { Type: 'Wait', Seconds: Math.round(timing.seconds), Comment: `Condition timing: after ${timing.text}`, Next: n.check });
        worst += timing.seconds;
      }
      add(n.check, check(n.met));
      worst += withRetries(CORE_TASK_TIMEOUT);
      const choices: Record<string, unknown>[] = [{ Variable: `$.run.checks.${name}.result`, StringEquals: 'true', Next: afterCondition }];
      if (timing?.kind === 'for') {
        // Holds now but not yet for the whole window: wait one window, then look again once.
        choices.push({ Variable: `$.run.checks.${name}.result`, StringEquals: 'pending', Next: n.waitAgain });
        add(n.waitAgain, { Type: 'Wait', Seconds: Math.round(timing.seconds), Comment: `Condition must hold for ${timing.text}`, Next: n.checkAgain });
        add(n.checkAgain, check(n.metAgain));
        add(n.metAgain, { Type: 'Choice', Choices: [{ Variable: `$.run.checks.${name}.result`, StringEquals: 'true', Next: afterCondition }], Default: skip });
        worst += timing.seconds + withRetries(CORE_TASK_TIMEOUT);
      }
      if (timing?.kind === 'after_step') {
        // The metric has no datapoint newer than the step it comes after yet: wait, then look again once.
        choices.push({ Variable: `$.run.checks.${name}.result`, StringEquals: 'pending', Next: n.waitFresh });
        add(n.waitFresh, { Type: 'Wait', Seconds: FRESH_DATA_WAIT_SECONDS, Comment: `Condition must read data newer than ${step.afterStep}`, Next: n.checkAgain });
        add(n.checkAgain, check(n.metAgain));
        add(n.metAgain, { Type: 'Choice', Comment: 'still no data newer than the step, false or unknown: skipped', Choices: [{ Variable: `$.run.checks.${name}.result`, StringEquals: 'true', Next: afterCondition }], Default: skip });
        worst += FRESH_DATA_WAIT_SECONDS + withRetries(CORE_TASK_TIMEOUT);
      }
      add(n.met, { Type: 'Choice', Comment: 'false or unknown (no data) skips the step', Choices: choices, Default: skip });
    }

    if (step.action.mutates) {
      add(n.gate, core('Fn_breaker:gate', { op: 'gate', ...common, mutates: true }, {
        ResultSelector: { 'mode.$': '$.Payload.mode' },
        ResultPath: `$.run.gates.${name}`,
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: `$.run.errors.${name}`, Next: n.notRun }],
        Comment: 'Global and per-service breakers: a mutating step runs only in mode "auto"',
        Next: n.gateOpen,
      }));
      add(n.gateOpen, { Type: 'Choice', Choices: [{ Variable: `$.run.gates.${name}.mode`, StringEquals: 'auto', Next: afterGate }], Default: skip });
      worst += withRetries(CORE_TASK_TIMEOUT);
      needsNotRun = true;
    }

    if (step.mode === 'approval') {
      LEVELS.forEach((lvl, li) => {
        const timeout = Math.round(pb.escalationSeconds[lvl.key]);
        const next = LEVELS[li + 1];
        add(n.approval(lvl.level, lvl.label), {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
          Comment: `Waits ${formatDuration(timeout)} for ${step.approvers.join(' + ')} (escalation level ${lvl.level}: ${lvl.label})`,
          Parameters: {
            FunctionName: `\${${CORE_FUNCTIONS.approvalRequest}}`,
            // What to approve (action, approvers, message) comes from the compiled step the
            // function bundles, not from here: a forged request cannot name other approvers.
            Payload: corePayload('Fn_approval_request:request', {
              'taskToken.$': '$$.Task.Token',
              op: 'request',
              ...common,
              level: lvl.level,
              timeout_seconds: timeout,
              // The window runs from the state's entry, not from when the Lambda gets to run.
              'window_opened_at.$': '$$.State.EnteredTime',
              'execution.$': '$$.Execution.Id',
              ...CONTEXT_REFS,
            }),
          },
          TimeoutSeconds: timeout,
          ResultPath: `$.run.approvals.${name}`,
          Catch: [
            { ErrorEquals: ['States.Timeout'], ResultPath: `$.run.errors.${name}`, Next: next ? n.escalate(next.level) : n.expired },
            { ErrorEquals: ['ApprovalRejectedError'], ResultPath: `$.run.errors.${name}`, Next: n.rejected },
            { ErrorEquals: ['States.ALL'], ResultPath: `$.run.errors.${name}`, Next: n.notRun },
          ],
          Next: n.action,
        });
        worst += timeout;
        if (next) {
          add(n.escalate(next.level), core('Fn_escalate:approval', { op: 'approval', ...common, level: next.level }, { ResultPath: null, Next: n.approval(next.level, next.label) }));
          worst += withRetries(CORE_TASK_TIMEOUT);
        }
      });
      add(n.expired, record('approval_expired', name, skip));
      add(n.rejected, record('approval_rejected', name, skip));
      worst += withRetries(CORE_TASK_TIMEOUT);
      needsNotRun = true;
    }

    // Only which incident, which step, its parameters as compiled and the execution: the action
    // Lambda takes the step's mode, risk, approvers and the incident's service from stored state.
    add(n.action, lambdaTask(actionFunctionKey(step.action.name), actionPayload({
      'incidentId.$': '$.incident.id',
      step: name,
      params: step.params,
      'execution.$': '$$.Execution.Id',
    }), {
      Comment: stepComment(step),
      TimeoutSeconds: step.timeoutSeconds,
      ResultSelector: { 'summary.$': '$.Payload.summary', 'outputs.$': '$.Payload.outputs' },
      ResultPath: `$.run.steps.${name}`,
      Catch: [
        { ErrorEquals: ['PolicyViolationError'], ResultPath: `$.run.errors.${name}`, Next: n.refused },
        { ErrorEquals: ['States.ALL'], ResultPath: `$.run.errors.${name}`, Next: n.failed },
      ],
      Next: skip,
    }));
    worst += withRetries(step.timeoutSeconds);
    add(n.refused, record('refused', name, skip));
    add(n.failed, core('Fn_breaker:failure', { op: 'failure', ...common, on_fail: step.spec.on_fail ?? 'abort', 'error.$': `$.run.errors.${name}` }, {
      ResultPath: null,
      Comment: step.spec.on_fail === 'skip' ? 'on_fail: skip — record and go on' : 'on_fail: abort — record and escalate',
      Next: step.spec.on_fail === 'skip' ? skip : END.escalate,
    }));
    worst += withRetries(CORE_TASK_TIMEOUT);
    if (needsNotRun) add(n.notRun, record('not_run', name, skip));
  });

  if (pb.kind === 'alarm') {
    add(END.settle, { Type: 'Wait', Seconds: VERIFY_SETTLE_SECONDS, Comment: 'Let metrics reflect the last action', Next: END.verify });
    add(END.verify, core('Fn_evaluate:verify', { op: 'verify', playbook: pb.name, rules: (pb.spec.detection?.primary ?? []).filter((r): r is string => typeof r === 'string') }, {
      ResultSelector: { 'result.$': '$.Payload.result' },
      ResultPath: '$.run.verify',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.run.errors.verify', Next: END.escalate }],
      Next: END.recovered,
    }));
    add(END.recovered, { Type: 'Choice', Choices: [{ Variable: '$.run.verify.result', StringEquals: 'true', Next: END.resolve }], Default: END.escalate });
    add(END.resolve, core('Fn_incident:resolve', { op: 'resolve' }, { ResultPath: null, Next: END.report }));
    worst += VERIFY_SETTLE_SECONDS + withRetries(CORE_TASK_TIMEOUT);
  } else {
    add(END.close, core('Fn_incident:close', { op: 'close' }, { ResultPath: null, Next: END.report }));
  }
  // An unresolved incident climbs like an unanswered approval (seed §4.1): on-call SRE now, team
  // lead / senior SRE after the next window, director + CTO after the last, unless it recovered.
  const rules = (pb.spec.detection?.primary ?? []).filter((r): r is string => typeof r === 'string');
  const recovered = pb.kind === 'alarm' ? END.resolve : END.close;
  add(END.escalate, core('Fn_escalate:incident', { op: 'incident', playbook: pb.name, level: 2 }, { ResultPath: null, Next: 'Wait: escalation window L3' }));
  // The window before level N is the one level N-1 had: on-call SRE 10 min, team lead 15 min by default.
  for (const [level, window, next] of [[3, 'oncall_sre', 'Wait: escalation window L4'], [4, 'team_lead', L4.report]] as const) {
    const label = `L${level}`;
    add(`Wait: escalation window ${label}`, { Type: 'Wait', Seconds: Math.round(pb.escalationSeconds[window]), Comment: `Unresolved incidents climb to level ${level} at the end of this window`, Next: `Recovered before ${label}?` });
    add(`Recovered before ${label}?`, core('Fn_incident:check', { op: 'check', playbook: pb.name, rules }, {
      ResultSelector: { 'result.$': '$.Payload.result' },
      ResultPath: '$.run.recheck',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.run.errors.recheck', Next: `Escalate incident to ${label}` }],
      Next: `Recovered at ${label}?`,
    }));
    add(`Recovered at ${label}?`, { Type: 'Choice', Choices: [{ Variable: '$.run.recheck.result', StringEquals: 'true', Next: recovered }], Default: `Escalate incident to ${label}` });
    add(`Escalate incident to ${label}`, core('Fn_escalate:incident', { op: 'incident', playbook: pb.name, level }, { ResultPath: null, Next: next }));
    worst += pb.escalationSeconds[window] + 2 * withRetries(CORE_TASK_TIMEOUT);
  }
  // At level 4 the incident is with people, but the agent keeps checking its recovery (one
  // director window apart, as many times as max_duration leaves room for) and resolves it on
  // a recovery it sees; a person's resolve ends the loop at the next check.
  const perCheck = pb.escalationSeconds.director + withRetries(CORE_TASK_TIMEOUT);
  // Room left under max_duration once the machine's timeout margin (×1.1 + 1 min, rounded up) is counted.
  const left = Math.floor((pb.maxDurationSeconds - 120) / 1.1) - worst - withRetries(CORE_TASK_TIMEOUT) * 4;
  const checks = Math.max(0, Math.min(MAX_L4_RECOVERY_CHECKS, Math.floor(left / perCheck)));
  add(L4.report, core('Fn_report:report', { op: 'report', playbook: pb.name }, { ResultPath: null, Comment: 'The report as the incident reaches level 4; rewritten when it resolves', Next: checks > 0 ? L4.wait : END.done }));
  worst += withRetries(CORE_TASK_TIMEOUT);
  if (checks > 0) {
    add(L4.wait, { Type: 'Wait', Seconds: Math.round(pb.escalationSeconds.director), Comment: `At level 4, recovery is checked every ${formatDuration(pb.escalationSeconds.director)}, ${checks} time(s) at most`, Next: L4.check });
    add(L4.check, core('Fn_incident:check', { op: 'check', playbook: pb.name, rules }, {
      ResultSelector: { 'result.$': '$.Payload.result' },
      ResultPath: '$.run.recheck',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.run.errors.recheck', Next: L4.count }],
      Next: L4.recovered,
    }));
    add(L4.recovered, {
      Type: 'Choice',
      Choices: [
        { Variable: '$.run.recheck.result', StringEquals: 'true', Next: recovered },
        // The incident ended another way (it FAILED): nothing left to check.
        { Variable: '$.run.recheck.result', StringEquals: 'stop', Next: END.report },
      ],
      Default: L4.count,
    });
    add(L4.count, { Type: 'Pass', Parameters: { 'checks.$': 'States.MathAdd($.run.l4.checks, 1)' }, ResultPath: '$.run.l4', Next: L4.more });
    add(L4.more, { Type: 'Choice', Choices: [{ Variable: '$.run.l4.checks', NumericLessThan: checks, Next: L4.wait }], Default: END.done });
    worst += checks * perCheck;
  }
  add(END.report, core('Fn_report:report', { op: 'report', playbook: pb.name }, { ResultPath: null, Next: END.done }));
  add(END.done, { Type: 'Succeed' });
  worst += 3 * withRetries(CORE_TASK_TIMEOUT);

  const problems: PlaybookProblem[] = [];
  if (worst > pb.maxDurationSeconds) {
    problems.push(problemAt(pb.source, pb.spec.max_duration ? ['max_duration'] : [], `worst-case execution takes ${formatDuration(worst)} (waits, approval windows, task timeouts with retries), over max_duration ${formatDuration(pb.maxDurationSeconds)}; shorten waits or raise max_duration`));
  }
  if (pb.maxDurationSeconds > AWS_MAX_EXECUTION_SECONDS) {
    problems.push(problemAt(pb.source, ['max_duration'], `max_duration ${formatDuration(pb.maxDurationSeconds)} is over the Step Functions limit of one year`));
  }
  if (problems.length > 0) throw new PlaybookError(problems);

  const timeoutSeconds = Math.ceil((worst * 1.1 + 60) / 60) * 60;
  const asl: Asl = {
    Comment: `Generated by \`npm run compile\` from ${options.sourcePath}; do not edit. Playbook ${pb.name} (risk ${pb.spec.risk}).`,
    StartAt: START,
    TimeoutSeconds: timeoutSeconds,
    States: states,
  };
  // Placeholders only stand in Task FunctionNames (a test checks the whole ASL has no others).
  const substitutions = [
    ...new Set(
      Object.values(states)
        .flatMap((st) => [st, ...((st.Branches as Asl[] | undefined) ?? []).flatMap((b) => Object.values(b.States))])
        .flatMap((st) => /^\$\{(\w+)\}$/.exec(String((st.Parameters as { FunctionName?: string } | undefined)?.FunctionName ?? ''))?.[1] ?? []),
    ),
  ].sort();
  const manifest: MachineManifest = {
    playbook: pb.name,
    hash,
    ...(pb.spec.service ? { service: pb.spec.service } : {}),
    steps: compiledSteps(pb),
    escalationSeconds: { ...pb.escalationSeconds },
    file: options.outputPath ?? `statemachines/${pb.name}.asl.json`,
    source: options.sourcePath,
    risk: pb.spec.risk,
    trigger:
      pb.kind === 'schedule'
        ? { type: 'schedule', expression: pb.spec.schedule ?? 'rate(1 day)' }
        : {
            type: 'alarm',
            alarmNamePrefix: `sre-agent/${pb.name}/`,
            ...(pb.spec.service ? { defaultService: pb.spec.service } : {}),
            metrics: (pb.spec.detection?.primary ?? []).map((rule) => detectionMetric(rule)).filter((m): m is NonNullable<typeof m> => !!m),
            ...(pb.spec.detection ? { detection: pb.spec.detection } : {}),
            ...(pb.spec.variables ? { variables: pb.spec.variables } : {}),
          },
    actions: [...new Set(pb.steps.map((s) => s.action.name))].sort(),
    ...(investigation.length > 0 ? { investigation: { checks: investigation, timeoutSeconds: Math.max(...investigation.map((c) => c.timeoutSeconds)) + CONCLUDE_TIMEOUT_SECONDS } } : {}),
    substitutions,
    timeoutSeconds,
    transitions: { fullPath: countTransitions(asl, 'full'), quietPath: countTransitions(asl, 'quiet') },
  };
  return { asl, manifest, worstCaseSeconds: worst };
}

/** `api_request_rate > baseline * 3` → { metric, threshold }. One-key maps and trend words are kept as prose. */
function detectionMetric(rule: string | Record<string, unknown>): { metric: string; threshold: string; source: string } | undefined {
  if (typeof rule !== 'string') return undefined;
  const m = /^([a-z][a-z0-9_]*)\s*(>=|>|<=|<)\s*(.+)$/.exec(rule.trim());
  return m ? { metric: m[1], threshold: `${m[2]} ${m[3].trim()}`, source: rule } : undefined;
}
