/**
 * Undo of an incident's configuration changes (seed scenario 1: rate limiting and degraded
 * features are temporary): every update_config / feature_flags change on the incident's timeline
 * is put back to its before value, newest first, once. A value someone changed since the agent
 * set it is left alone and reported: the undo never overwrites a person's later decision.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ConfigOps } from '../actions/ports';
import { TargetNotConfiguredError } from '../actions/errors';
import { appendEvent, getIncident, getTimeline, type IncidentTables } from '../incident';

/** Timeline event types of the changes the undo restores, by action. */
const CONFIG_ACTIONS = new Set(['update_config', 'feature_flags']);

/** One key or flag the undo looked at. */
export interface RestoredValue {
  readonly step: string;
  readonly kind: 'config' | 'flag';
  readonly service: string | null;
  readonly key: string;
  /** What the agent set, what it found now, and what it put back (null: deleted). */
  readonly set: string | boolean | null;
  readonly found: string | boolean | null;
  readonly restored?: string | boolean | null;
  /** Why it was left alone. */
  readonly conflict?: string;
}

export interface ConfigUndoResult {
  readonly incidentId: string;
  /** False when an earlier undo of this incident already ran (nothing done now). */
  readonly ran: boolean;
  readonly restored: RestoredValue[];
  readonly conflicts: RestoredValue[];
  readonly summary: string;
}

export interface ConfigUndoDeps {
  readonly doc: DynamoDBDocumentClient;
  readonly tables: IncidentTables;
  /** The store the actions wrote to; undefined fails with TargetNotConfiguredError. */
  readonly config?: ConfigOps;
  now(): Date;
}

type Change = { step: string; kind: 'config' | 'flag'; service: string | null; before: Record<string, unknown>; after: Record<string, unknown> };

function changesOf(events: Awaited<ReturnType<typeof getTimeline>>): Change[] {
  const out: Change[] = [];
  for (const e of events) {
    const action = (e.data as { action?: string } | undefined)?.action;
    if (e.type !== 'action' || !action || !CONFIG_ACTIONS.has(action)) continue;
    const before = e.before as { service?: string | null; config?: Record<string, unknown>; flags?: Record<string, unknown> } | undefined;
    const after = e.after as typeof before;
    const kind = action === 'update_config' ? 'config' : 'flag';
    const field = kind === 'config' ? 'config' : 'flags';
    if (!before?.[field] || !after?.[field]) continue;
    out.push({ step: e.step ?? action, kind, service: before.service ?? null, before: before[field], after: after[field] });
  }
  return out;
}

/**
 * Restores the before values of the incident's config and feature-flag changes. Runs once per
 * incident (a conditional marker item): the resolve hook and `sre-agent config undo` may both call it.
 * @throws TargetNotConfiguredError when there are changes to undo but no config store
 * @example await undoConfigChanges('INC-20260209-001', { doc, tables, config, now: () => new Date() }, 'agent')
 */
export async function undoConfigChanges(incidentId: string, deps: ConfigUndoDeps, actor = 'agent'): Promise<ConfigUndoResult> {
  const events = await getTimeline(deps.doc, deps.tables, incidentId);
  // Every incident's timeline starts with incident_opened: an empty one is an id nobody opened (a typo).
  if (events.length === 0) await getIncident(deps.doc, deps.tables, incidentId);
  const changes = changesOf(events);
  if (changes.length === 0) return { incidentId, ran: false, restored: [], conflicts: [], summary: `${incidentId}: no configuration change to undo` };
  const config = deps.config;
  if (!config) throw new TargetNotConfiguredError(`config undo of ${incidentId}: no config store configured, ${changes.length} change(s) left in place`, { target: incidentId });
  try {
    await deps.doc.send(new PutCommand({
      TableName: deps.tables.incidents,
      Item: { pk: incidentId, sk: 'CONFIG_UNDO', at: deps.now().toISOString(), actor },
      ConditionExpression: 'attribute_not_exists(pk)',
    }));
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException || (err as { name?: string }).name === 'ConditionalCheckFailedException') {
      return { incidentId, ran: false, restored: [], conflicts: [], summary: `${incidentId}: configuration already restored by an earlier undo` };
    }
    throw err;
  }
  const restored: RestoredValue[] = [];
  const conflicts: RestoredValue[] = [];
  for (const c of [...changes].reverse()) {
    const keys = Object.keys(c.after);
    const current = c.kind === 'config'
      ? Object.fromEntries(await Promise.all(keys.map(async (k) => [k, (await config.get(c.service ?? '', k)) ?? null] as const)))
      : Object.fromEntries(Object.entries(await config.getFlags(keys, c.service ?? undefined)).map(([k, v]) => [k, v ?? null]));
    const back: Record<string, string | boolean | null> = {};
    for (const key of keys) {
      const set = c.after[key] as string | boolean | null;
      const found = current[key] as string | boolean | null;
      const base = { step: c.step, kind: c.kind, service: c.service, key, set, found };
      if (found !== set) {
        conflicts.push({ ...base, conflict: `changed since the agent set it (${JSON.stringify(set)} → ${JSON.stringify(found)}); left as it is` });
        continue;
      }
      back[key] = (c.before[key] ?? null) as string | boolean | null;
      restored.push({ ...base, restored: back[key] });
    }
    if (Object.keys(back).length === 0) continue;
    if (c.kind === 'config') await config.set(c.service ?? '', back as Record<string, string | null>);
    else await config.setFlags(back as Record<string, boolean | null>, c.service ?? undefined);
  }
  const summary = `configuration restored in ${config.name}: ${restored.map((r) => `${r.key} → ${JSON.stringify(r.restored)}`).join(', ') || 'nothing'}${conflicts.length ? `; left alone: ${conflicts.map((r) => `${r.key} (${r.conflict})`).join(', ')}` : ''}`;
  await appendEvent(deps.doc, deps.tables, incidentId, {
    at: deps.now(),
    type: 'config_restored',
    actor,
    summary,
    before: Object.fromEntries(restored.map((r) => [r.key, r.set])),
    after: Object.fromEntries(restored.map((r) => [r.key, r.restored ?? null])),
    data: { restored, conflicts },
  });
  return { incidentId, ran: true, restored, conflicts, summary };
}
