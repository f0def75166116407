/**
 * Undo of an incident's configuration changes (seed scenario 1: rate limiting and degraded
 * features are temporary): every update_config / feature_flags change on the incident's timeline
 * is put back to its before value, newest first, once. A value someone changed since the agent
 * set it is left alone and reported: the undo never overwrites a person's later decision.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
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

type Change = { seq: number; step: string; kind: 'config' | 'flag'; service: string | null; before: Record<string, unknown>; after: Record<string, unknown> };

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
    out.push({ seq: e.seq, step: e.step ?? action, kind, service: before.service ?? null, before: before[field], after: after[field] });
  }
  return out;
}

/** How long a claim on an undo holds before another caller may take it over (a crashed run). */
export const CONFIG_UNDO_LEASE_SECONDS = 300;

/** The marker item's progress: which changes (by timeline seq) are back, and what was found. */
interface UndoMarker {
  readonly state?: 'running' | 'failed' | 'done';
  readonly owner?: string;
  readonly actor?: string;
  readonly at?: string;
  readonly done?: number[];
  readonly restored?: RestoredValue[];
  readonly conflicts?: RestoredValue[];
}

const isConditionFailure = (err: unknown) => err instanceof ConditionalCheckFailedException || (err as { name?: string }).name === 'ConditionalCheckFailedException';

/**
 * Restores the before values of the incident's config and feature-flag changes. Runs once per
 * incident and is resumable: a marker item is claimed (a lease, so the resolve hook and
 * `sre-agent config undo` never run it side by side), each change is recorded on it once it is
 * back, and it is marked done only at the end. A run that fails partway leaves the marker
 * `failed`; the next call skips the changes already restored and goes on with the rest.
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
  const key = { pk: incidentId, sk: 'CONFIG_UNDO' };
  const owner = randomUUID();
  const now = deps.now();
  let marker: UndoMarker;
  try {
    marker = ((await deps.doc.send(new UpdateCommand({
      TableName: deps.tables.incidents,
      Key: key,
      UpdateExpression: 'SET #state = :running, #owner = :owner, leaseUntil = :lease, actor = :actor, #at = :at',
      // A marker without state was written by an undo that completed before progress was kept.
      ConditionExpression: 'attribute_not_exists(pk) OR #state = :failed OR (#state = :running AND leaseUntil < :now)',
      ExpressionAttributeNames: { '#state': 'state', '#owner': 'owner', '#at': 'at' },
      ExpressionAttributeValues: { ':running': 'running', ':failed': 'failed', ':owner': owner, ':lease': new Date(now.getTime() + CONFIG_UNDO_LEASE_SECONDS * 1000).toISOString(), ':now': now.toISOString(), ':actor': actor, ':at': now.toISOString() },
      ReturnValues: 'ALL_NEW',
    }))).Attributes ?? {}) as UndoMarker;
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
    const held = ((await deps.doc.send(new GetCommand({ TableName: deps.tables.incidents, Key: key }))).Item ?? {}) as UndoMarker;
    const summary = held.state === 'running'
      ? `${incidentId}: a configuration undo is running (${held.actor ?? 'someone'}, since ${held.at ?? '?'}); not started again`
      : `${incidentId}: configuration already restored by an earlier undo`;
    return { incidentId, ran: false, restored: [], conflicts: [], summary };
  }
  const done = new Set(marker.done ?? []);
  const restored: RestoredValue[] = [...(marker.restored ?? [])];
  const conflicts: RestoredValue[] = [...(marker.conflicts ?? [])];
  /** Writes the marker if this run still holds it. */
  const save = async (update: string, values: Record<string, unknown>): Promise<void> => {
    await deps.doc.send(new UpdateCommand({
      TableName: deps.tables.incidents,
      Key: key,
      UpdateExpression: update,
      ConditionExpression: '#owner = :owner',
      ExpressionAttributeNames: { '#owner': 'owner', ...(update.includes('#state') ? { '#state': 'state' } : {}) },
      ExpressionAttributeValues: { ':owner': owner, ...values },
    }));
  };
  try {
    for (const c of [...changes].reverse()) {
      if (done.has(c.seq)) continue;
      const keys = Object.keys(c.after);
      const current = c.kind === 'config'
        ? Object.fromEntries(await Promise.all(keys.map(async (k) => [k, (await config.get(c.service ?? '', k)) ?? null] as const)))
        : Object.fromEntries(Object.entries(await config.getFlags(keys, c.service ?? undefined)).map(([k, v]) => [k, v ?? null]));
      const back: Record<string, string | boolean | null> = {};
      const found: RestoredValue[] = [];
      const left: RestoredValue[] = [];
      for (const k of keys) {
        const set = c.after[k] as string | boolean | null;
        const value = current[k] as string | boolean | null;
        const base = { step: c.step, kind: c.kind, service: c.service, key: k, set, found: value };
        if (value !== set) {
          left.push({ ...base, conflict: `changed since the agent set it (${JSON.stringify(set)} → ${JSON.stringify(value)}); left as it is` });
          continue;
        }
        back[k] = (c.before[k] ?? null) as string | boolean | null;
        found.push({ ...base, restored: back[k] });
      }
      if (Object.keys(back).length > 0) {
        if (c.kind === 'config') await config.set(c.service ?? '', back as Record<string, string | null>);
        else await config.setFlags(back as Record<string, boolean | null>, c.service ?? undefined);
      }
      // Recorded once it is back: a retry must not take the restored values for someone's later change.
      done.add(c.seq);
      restored.push(...found);
      conflicts.push(...left);
      await save('SET done = :done, restored = :restored, conflicts = :conflicts', { ':done': [...done], ':restored': restored, ':conflicts': conflicts });
    }
  } catch (err) {
    await save('SET #state = :failed, lastError = :error', { ':failed': 'failed', ':error': `${(err as Error).name}: ${(err as Error).message}` }).catch(() => undefined);
    throw err;
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
  await save('SET #state = :done', { ':done': 'done' });
  return { incidentId, ran: true, restored, conflicts, summary };
}
