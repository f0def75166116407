/**
 * Deciding an approval in a test as the approval pages decide (lib/approval/callback, under the
 * approval callback's role when the engine runs the IAM check): the decision is recorded and, once
 * it settles the step, the task waiting when it lands is released. Releasing a task token read
 * earlier instead fails when a sped-up approval window has escalated meanwhile (the token is gone),
 * though the agent did right: a timing flake, not a finding.
 */
import { decideAndRelease, type ApprovalPageDeps, type DecisionOutcome } from '../../lib/approval/callback';
import { appendEvent } from '../../lib/incident';
import type { LocalEngine } from '../../lib/local/engine';

export type Decision = Parameters<typeof decideAndRelease>[2];

/** Decides `approvalId` on `engine` as `decision.person` in `decision.role`, through decideAndRelease. */
export function decideOnEngine(engine: LocalEngine, approvalId: string, decision: Decision): Promise<DecisionOutcome> {
  const deps: ApprovalPageDeps = {
    doc: engine.doc,
    tables: engine.tables,
    key: engine.signingKey,
    now: () => engine.now(),
    sendTaskSuccess: (token, output) => engine.sendTaskSuccess(token, output),
    sendTaskFailure: (token, error, cause) => engine.sendTaskFailure(token, error, cause),
    record: (incidentId, event) => appendEvent(engine.doc, engine.tables, incidentId, event),
  };
  return engine.asFunction('approvalCallback', () => decideAndRelease(deps, approvalId, decision, 'api'));
}
