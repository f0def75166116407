/**
 * Approvals in tests. Deciding one as the approval pages decide (lib/approval/callback, under the
 * approval callback's role when the engine runs the IAM check): the decision is recorded and, once
 * it settles the step, the task waiting when it lands is released. Releasing a task token read
 * earlier instead fails when a sped-up approval window has escalated meanwhile (the token is gone),
 * though the agent did right: a timing flake, not a finding.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { decideAndRelease, type ApprovalPageDeps, type DecisionOutcome } from '../../lib/approval/callback';
import { requestApproval, type ApprovalRecord, type ApprovalTables } from '../../lib/approval/store';
import type { CompiledStep } from '../../lib/compiled/manifest';
import { appendEvent } from '../../lib/incident';
import type { LocalEngine } from '../../lib/local/engine';
import { approvalBinding } from '../../lib/policy';
import { defaultPolicy } from '../../lib/policy/files';
import { startedIncident } from './started-incident';

export type Decision = Parameters<typeof decideAndRelease>[2];

/** Decides `approvalId` on `engine` as `decision.person` in `decision.role`, through decideAndRelease. */
export function decideOnEngine(engine: LocalEngine, approvalId: string, decision: Decision): Promise<DecisionOutcome> {
  const deps: ApprovalPageDeps = {
    doc: engine.doc,
    tables: engine.tables,
    key: engine.signingKey,
    now: () => engine.now(),
    // decideAndRelease is the API path: its callers check the roster (rosterPerson) before it.
    oncall: engine.oncall,
    sendTaskSuccess: (token, output) => engine.sendTaskSuccess(token, output),
    sendTaskFailure: (token, error, cause) => engine.sendTaskFailure(token, error, cause),
    record: (incidentId, event) => appendEvent(engine.doc, engine.tables, incidentId, event),
  };
  return engine.asFunction('approvalCallback', () => decideAndRelease(deps, approvalId, decision, 'api'));
}

/**
 * Stores a PENDING level-2 approval of a compiled step on `incidentId`, as the approval request
 * does (a 10-minute window of a 55-minute chain, the step's approvers, its binding from the
 * compiled parameters), with the task token `token`.
 */
export function pendingApprovalOfStep(doc: DynamoDBDocumentClient, tables: ApprovalTables, incidentId: string, step: CompiledStep, token: string): Promise<ApprovalRecord> {
  return requestApproval(doc, tables, {
    incidentId,
    step: step.name,
    action: step.action,
    level: 2,
    approvers: step.approvers,
    minApprovals: step.minApprovals,
    taskToken: token,
    timeoutSeconds: 600,
    totalSeconds: 3300,
    binding: approvalBinding(step.action, step.params, step.targets, defaultPolicy()),
    params: step.params,
  }, new Date());
}

let opened = 0;
/**
 * Starts an incident of `playbook` on a service of its own (`<playbook>-svc-N`) and stores a
 * PENDING level-2 approval of its compiled step `step` (task token `token-N`).
 */
export async function pendingApprovalOnNewIncident(engine: LocalEngine, playbook: string, step: string): Promise<ApprovalRecord> {
  opened += 1;
  const started = await startedIncident(engine.doc, engine.tables, { playbook, service: `${playbook}-svc-${opened}`, playbooks: engine.compiled });
  const compiled = engine.compiled.step(playbook, step);
  if (!compiled) throw new Error(`test helper: no compiled step ${playbook}/${step}`);
  return pendingApprovalOfStep(engine.doc, engine.tables, started.incident.id, compiled, `token-${opened}`);
}
