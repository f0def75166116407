/**
 * An incident as its playbook's Start incident state leaves it: opened, pinned to the compiled
 * playbook's hash, tied to an execution, MITIGATING. Tests then invoke action functions the way
 * the compiled machine does (`actionPayload`), or forge what the machine would never send.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { attachExecution, openOrJoinIncident, pinPlaybookHash, transitionIfStatus, type Incident, type IncidentTables, type Severity } from '../../lib/incident';
import { loadCompiledPlaybooks, type CompiledPlaybooks } from '../../lib/compiled/manifest';

export interface StartedIncident {
  readonly incident: Incident;
  readonly executionArn: string;
  /** The payload the compiled machine sends to a step's action function. */
  actionPayload(step: string, overrides?: Record<string, unknown>): Record<string, unknown>;
}

export async function startedIncident(
  doc: DynamoDBDocumentClient,
  tables: IncidentTables,
  input: { readonly playbook: string; readonly service?: string; readonly severity?: Severity; readonly alarm?: string; readonly playbooks?: CompiledPlaybooks },
): Promise<StartedIncident> {
  const playbooks = input.playbooks ?? loadCompiledPlaybooks();
  const machine = playbooks.get(input.playbook);
  if (!machine) throw new Error(`no compiled playbook ${input.playbook}`);
  const now = new Date();
  const { incident } = await openOrJoinIncident(doc, tables, {
    playbook: input.playbook,
    service: input.service ?? machine.service ?? 'trading-api',
    severity: input.severity ?? 'MEDIUM',
    alarm: { name: input.alarm ?? `sre-agent/${input.playbook}/${input.service ?? machine.service ?? 'trading-api'}` },
    detectedAt: now,
    anomalyStartedAt: now,
  });
  const executionArn = `arn:aws:states:us-east-1:123456789012:execution:${input.playbook}:${incident.id}`;
  await pinPlaybookHash(doc, tables, incident.id, machine.hash);
  await attachExecution(doc, tables, incident.id, executionArn, now);
  const started = (await transitionIfStatus(doc, tables, incident.id, 'OPEN', 'MITIGATING', now)) ?? incident;
  return {
    incident: { ...started, playbookHash: machine.hash, executionArn },
    executionArn,
    actionPayload(step, overrides = {}) {
      const compiled = playbooks.step(input.playbook, step);
      if (!compiled) throw new Error(`playbook ${input.playbook} has no step ${step}`);
      return { incidentId: incident.id, step, params: compiled.params, execution: executionArn, ...overrides };
    },
  };
}
