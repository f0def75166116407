/**
 * Compile-time safety: the policy rules (lib/policy/rules) run over each step as written, and
 * every finding becomes a problem at its file:line:column. A `needs_approval` finding is an error
 * on a step that runs automatically; a `refuse` finding always is. The runtime guard runs the
 * same rules again on the parameters it resolves.
 */
import { runRules, type FactorBound, type Policy, type StepFacts } from '../policy';
import { problemAt, type FieldPath, type PlaybookProblem } from '../yaml';
import { affineIn, factorRange, isTemplate, parseExpression, parseTemplate, variablesOf, type Expr } from '../compiled/expression';
import { ExpressionError } from './errors';
import type { LoadedPlaybook, LoadedStep } from './loader';

function bound(param: string, path: readonly (string | number)[] | undefined, expr: Expr, source: string, local: string): FactorBound | undefined {
  if (!variablesOf(expr).includes(local)) {
    // No local at all: a constant (caps check it) or another variable, which cannot be bounded.
    const others = variablesOf(expr);
    return others.length === 0 ? undefined : { param, ...(path ? { path } : {}), expression: source, local, min: Number.NaN, max: Number.NaN, reason: `it scales ${others.join(', ')} instead of ${local}` };
  }
  const f = affineIn(expr, local);
  if ('reason' in f) return { param, ...(path ? { path } : {}), expression: source, local, min: Number.NaN, max: Number.NaN, reason: f.reason };
  const { min, max } = factorRange(f);
  return { param, ...(path ? { path } : {}), expression: source, local, min, max };
}

/**
 * The factor ranges of a step's scaling expressions (`current_max * 2` → 2..2), for the
 * expression-bounds rule, `plan` and the runtime check. Expressions that do not parse are the
 * loader's to report.
 */
export function deriveBounds(step: Pick<LoadedStep, 'action' | 'params'>): FactorBound[] {
  const out: FactorBound[] = [];
  for (const [param, spec] of Object.entries(step.action.bounds ?? {})) {
    const value = step.params[param];
    if (typeof value !== 'string') continue;
    try {
      if (isTemplate(value)) {
        for (const part of parseTemplate(value).parts) {
          if (typeof part === 'string') continue;
          const b = bound(param, undefined, part.expr, part.source.trim(), spec.local);
          if (b) out.push(b);
        }
      } else {
        const b = bound(param, undefined, parseExpression(value), value.trim(), spec.local);
        if (b) out.push(b);
      }
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
    }
  }
  return out;
}

/** The facts the rules see of a step as written. */
export function stepFacts(pb: LoadedPlaybook, step: LoadedStep): StepFacts {
  const s = step.spec;
  return {
    name: s.name,
    action: step.action,
    mode: step.mode,
    risk: step.risk,
    approvers: step.approvers,
    ...(pb.spec.service ? { service: pb.spec.service } : {}),
    params: step.params,
    bounds: deriveBounds(step),
    written: {
      autoExecute: s.auto_execute,
      requiresApproval: s.requires_approval,
      risk: s.risk,
      approvers: s.approvers !== undefined,
      approvalMessage: s.approval_message !== undefined,
    },
  };
}

export function checkPlaybookSafety(pb: LoadedPlaybook, policy: Policy): PlaybookProblem[] {
  const problems: PlaybookProblem[] = [];
  for (const step of pb.steps) {
    const facts = stepFacts(pb, step);
    const findings = runRules(facts, policy, 'compile');
    const label = `step "${step.spec.name}" (action ${step.action.name})`;
    // The only fix for a blacklisted step is to remove it: advice about approvals would mislead.
    const blacklisted = findings.some((f) => f.effect === 'refuse' && f.category !== undefined && (f.rule === 'blacklisted-action' || f.rule === 'blacklisted-parameters'));
    // A blacklisted value needs removing: other rules' advice about the same field adds nothing.
    const blacklistedFields = new Set(findings.filter((f) => f.category !== undefined && f.rule.startsWith('blacklisted-')).map((f) => f.field.join('.')));
    for (const f of findings) {
      if (f.effect === 'needs_approval' && (step.mode === 'approval' || blacklisted)) continue;
      if (!f.rule.startsWith('blacklisted-') && blacklistedFields.has(f.field.join('.'))) continue;
      const lead = f.effect === 'needs_approval' ? `${label} runs without approval:` : `${label}:`;
      const at: FieldPath = ['steps', step.index, ...f.field];
      problems.push(problemAt(pb.source, at, `${lead} [${f.rule}] ${f.message}; fix: ${f.fix}`, { offset: f.offset }));
    }
  }
  return problems;
}
