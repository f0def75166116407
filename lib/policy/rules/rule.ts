/**
 * The shape of a policy rule (the habit of cdk-nag: one rule per file, a pure function, its id
 * equal to its file name — a test checks it). The compiler runs the rules over the playbook as
 * written, the runtime guard over the compiled step with parameters resolved from stored state.
 */
import type { Policy } from '../policy';
import type { StepFacts } from '../step';
import type { BlacklistCategory } from '../types';

/** When a rule runs: on the playbook as written, or in the action Lambda before any I/O to the target. */
export type Phase = 'compile' | 'runtime';

/**
 * What a finding means: `refuse` — the step never runs as it stands; `needs_approval` — it may
 * run only with an approval (at compile time an error when the step runs automatically; at run
 * time an APPROVED record bound to these parameters is required).
 */
export type Effect = 'refuse' | 'needs_approval';

/** One thing a rule found wrong with a step. */
export interface Finding {
  /** The rule's id (its file name). */
  readonly rule: string;
  readonly effect: Effect;
  /** The field at fault, relative to the step: `['params', 'query']`, `['action']`, `['auto_execute']`. */
  readonly field: readonly (string | number)[];
  /** Offset into the field's string value, when the fault is inside it. */
  readonly offset?: number;
  /** What is wrong, naming the value at fault. */
  readonly message: string;
  /** How to fix it. */
  readonly fix: string;
  /** The §3.1 blacklist category, for blacklist refusals. */
  readonly category?: BlacklistCategory;
}

export interface PolicyRule {
  /** Equals the rule's file name (`sql-read-only` in rules/sql-read-only.ts). */
  readonly id: string;
  readonly description: string;
  readonly phases: readonly Phase[];
  check(step: StepFacts, policy: Policy, phase: Phase): Finding[];
}

/** Declares a rule; `finding` fills in its id. */
export function defineRule(spec: {
  readonly id: string;
  readonly description: string;
  readonly phases: readonly Phase[];
  check(step: StepFacts, policy: Policy, phase: Phase, finding: (f: Omit<Finding, 'rule'>) => Finding): Finding[];
}): PolicyRule {
  const finding = (f: Omit<Finding, 'rule'>): Finding => ({ rule: spec.id, ...f });
  return { id: spec.id, description: spec.description, phases: spec.phases, check: (step, policy, phase) => spec.check(step, policy, phase, finding) };
}

/** A finding as one line: `[rule] field: message; fix: ...`. */
export function formatFinding(f: Finding): string {
  const field = f.field.length > 0 ? `${f.field.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('')}: ` : '';
  return `[${f.rule}] ${field}${f.message}; fix: ${f.fix}`;
}
