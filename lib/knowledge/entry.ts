/**
 * The knowledge-base entry of seed §5.2: every field of the seed's `knowledge_entry`, checked at
 * the edge (imports, stores) with one zod schema.
 */
import * as z from '../yaml/zod';

const INCIDENT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const nonEmpty = z.string().check(z.minLength(1));

/** Seed §5.2 `knowledge_entry` (snake_case, as the seed writes it and Qdrant stores it as payload). */
export const knowledgeEntrySchema = z.object({
  /** `INC-YYYYMMDD-NNN` for the agent's own incidents; any id of letters, digits and `._:-` for imported ones. */
  incident_id: z.string().check(z.regex(INCIDENT_ID, 'letters, digits and ._:- only, at most 128 characters')),
  /** ISO-8601 time the incident was created (detected). */
  timestamp: z.string().check(z.refine((t) => !Number.isNaN(Date.parse(t)), 'an ISO-8601 time')),
  service: nonEmpty,
  severity: z.enum(['LOW', 'MEDIUM', 'HIGH', 'CRITICAL']),
  /** The text that is searched (seed: 服务 … 出现 …。根因是 …。通过 … 解决。关键指标: …。). */
  searchable_text: nonEmpty,
  /** Null when no root cause was established. */
  root_cause: z.nullable(nonEmpty),
  resolution_steps: z.array(nonEmpty),
  /** Seconds from detection to recovery (MTTR), or to the end when it did not recover. */
  resolution_duration: z.nullable(z.number().check(z.nonnegative())),
  playbook_used: z.nullable(nonEmpty),
  was_auto_remediated: z.boolean(),
  success: z.boolean(),
});

export type KnowledgeEntry = z.infer<typeof knowledgeEntrySchema>;

/** An entry that is not in the seed's shape; the message names the field. */
export class KnowledgeEntryError extends Error {
  public constructor(
    message: string,
    public readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'KnowledgeEntryError';
  }
}

/**
 * Checks one entry; unknown fields are dropped.
 * @throws KnowledgeEntryError naming the first field at fault (`resolution_steps.1: ...`)
 */
export function parseKnowledgeEntry(value: unknown, where = 'entry'): KnowledgeEntry {
  const parsed = knowledgeEntrySchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.join('.') || '(entry)';
  throw new KnowledgeEntryError(`${where}: field ${field}: ${issue.message}`, field);
}

/**
 * The seed's searchable text: 服务 {service} 出现 {anomaly}。根因是 {root cause}。通过 {steps} 解决。关键指标: {metrics}。
 *
 * @example searchableText({ service: 'trading-api', anomaly: 'API P99 延迟异常', rootCause: null, steps: [], keyMetrics: [] })
 */
export function searchableText(p: { service: string; anomaly: string; rootCause: string | null; steps: readonly string[]; keyMetrics: readonly string[] }): string {
  return [
    `服务 ${p.service} 出现 ${p.anomaly}。`,
    `根因是 ${p.rootCause ?? '未确定'}。`,
    `通过 ${p.steps.length ? p.steps.join('; ') : '人工处理'} 解决。`,
    `关键指标: ${p.keyMetrics.length ? p.keyMetrics.join('; ') : '无'}。`,
  ].join('\n');
}
