/**
 * Risk assessment of the step the agent proposes (seed §5.1: "风险评估: MEDIUM (0.55), 建议回滚"):
 * one documented score from the step's risk, its blast radius, market activity and how sure the
 * investigation is of the cause.
 */
import type { Hypothesis, RiskAssessment } from './types';
import { clamp01 } from './confidence';

/** Weight of each factor; they sum to 1. */
export const RISK_WEIGHTS = { stepRisk: 0.4, blastRadius: 0.25, marketActivity: 0.15, uncertainty: 0.2 } as const;

/** The step's declared risk as a number. */
export const STEP_RISK_VALUE: Readonly<Record<string, number>> = { LOW: 0.2, MEDIUM: 0.5, HIGH: 0.8, CRITICAL: 1 };

export interface RiskInput {
  /** The step's risk (LOW … CRITICAL; a range counts as its upper end). */
  readonly stepRisk: string;
  /** The step acts on a protected service (matching engine, wallet, settlement). */
  readonly protectedService: boolean;
  /** Replicas the step replaces or restarts (a rollback or restart: all of them); 0 for a config change. */
  readonly replicasAffected?: number;
  /** Market activity: request rate now / its baseline. Unknown counts as 0.5 (neither calm nor busy). */
  readonly activityRatio?: number;
  /** The hypothesis the step acts on (its confidence lowers the uncertainty). */
  readonly hypothesis?: Pick<Hypothesis, 'confidence' | 'suggestion' | 'statement'>;
  /** What the step does, for the suggestion (`回滚`, `扩容`…). */
  readonly stepLabel?: string;
}

/**
 * score = 0.4 · stepRisk + 0.25 · blastRadius + 0.15 · marketActivity + 0.2 · (1 − confidence), where
 * - stepRisk: LOW 0.2, MEDIUM 0.5, HIGH 0.8, CRITICAL 1.0;
 * - blastRadius: 1 for a protected service, else clamp(replicasAffected / 10) (ten replicas or more count fully);
 * - marketActivity: clamp((ratio − 1) / 2) (three times the usual traffic counts fully; unknown 0.5);
 * - confidence: of the hypothesis the step acts on (none: 0).
 * Levels: < 0.3 LOW, < 0.6 MEDIUM, < 0.8 HIGH, else CRITICAL. Suggestion: the hypothesis's own
 * (e.g. 建议回滚) up to MEDIUM; at HIGH "<suggestion>，需人工确认影响"; at CRITICAL "建议人工介入，暂缓自动操作".
 *
 * @example assessRisk({ stepRisk: 'HIGH', protectedService: false, replicasAffected: 6, activityRatio: 1.2, hypothesis: { confidence: 0.85, suggestion: '建议回滚', statement: '…' } })
 * // { score: 0.52, level: 'MEDIUM', suggestion: '建议回滚', ... }
 */
export function assessRisk(input: RiskInput): RiskAssessment {
  const upper = input.stepRisk.split('-').at(-1) ?? 'MEDIUM';
  const stepRisk = STEP_RISK_VALUE[upper] ?? 0.5;
  const blastRadius = input.protectedService ? 1 : clamp01((input.replicasAffected ?? 0) / 10);
  const marketActivity = input.activityRatio === undefined ? 0.5 : clamp01((input.activityRatio - 1) / 2);
  const uncertainty = 1 - clamp01(input.hypothesis?.confidence ?? 0);
  const factors = { stepRisk, blastRadius, marketActivity, uncertainty };
  const raw = RISK_WEIGHTS.stepRisk * stepRisk + RISK_WEIGHTS.blastRadius * blastRadius + RISK_WEIGHTS.marketActivity * marketActivity + RISK_WEIGHTS.uncertainty * uncertainty;
  const score = Math.round(raw * 100) / 100;
  const level: RiskAssessment['level'] = score < 0.3 ? 'LOW' : score < 0.6 ? 'MEDIUM' : score < 0.8 ? 'HIGH' : 'CRITICAL';
  const base = input.hypothesis?.suggestion ?? (input.stepLabel ? `建议${input.stepLabel}` : '建议按 playbook 执行');
  const suggestion = level === 'CRITICAL' ? '建议人工介入，暂缓自动操作' : level === 'HIGH' ? `${base}，需人工确认影响` : base;
  return { score, level, factors: Object.fromEntries(Object.entries(factors).map(([k, v]) => [k, Math.round(v * 100) / 100])), suggestion };
}

/** `MEDIUM (0.55), 建议回滚` — the seed's timeline wording. */
export function riskText(r: RiskAssessment): string {
  return `${r.level} (${r.score.toFixed(2)}), ${r.suggestion}`;
}
