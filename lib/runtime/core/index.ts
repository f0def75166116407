/**
 * The core operations the compiled machines call (`${Fn_incident}`, `${Fn_breaker}`,
 * `${Fn_evaluate}`, `${Fn_escalate}`, `${Fn_report}`, `${Fn_approval_request}`,
 * `${Fn_investigate}`): one module per function, shared by the Lambda handlers and the local
 * engine. I/O comes in through `CoreDeps`. A function's handler imports only its own module
 * (lib/runtime/core-handler.ts), so its bundle carries only its own code; `runCore` dispatches
 * them all (the local engine, tests).
 */
import { APPROVAL_REQUEST_OPS } from './approval-request';
import { BREAKER_OPS } from './breaker';
import type { CoreDeps, CoreOps } from './deps';
import { ESCALATE_OPS } from './escalate';
import { EVALUATE_OPS } from './evaluate';
import { INCIDENT_OPS } from './incident';
import { INVESTIGATE_OPS } from './investigate';
import { runCoreOp } from './ops';
import { REPORT_OPS } from './report';
import { UnknownOperationError } from '../errors';

export type { CoreDeps, CoreOperation, CoreOps, CoreTables, TaskReleaser } from './deps';
export { breakerChangeEvent, closeIncidentApprovals, errorSummary, recordBreakerChanges, recordBreakerChangesOf, recordBreakerReset, severityFromRisk, storedRef } from './common';
export { statusNoticeDeps } from './notice';
export { checkIncidentRecovered, RECOVERY_CHECK_MAX_AGE_SECONDS, recordStepEvent, resolveIncident, startIncident } from './incident';
export { handResolveSchema, resolveByHand, resolveIncidentByHand, type HandResolveResult } from './resolve';
export { recordExecutionEnded, type ExecutionEnd, type ExecutionEndedOutcome } from './execution-ended';
export { breakerGate, recordStepFailure } from './breaker';
export { conditionVariables, evaluateCondition, verifyIncidentRecovery } from './evaluate';
export { escalate } from './escalate';
export { formatMetric, requestStepApproval, resolvedStep } from './approval-request';
export { refreshReport, writeReport } from './report';

/** Every core function's operations, by `FunctionName` key. */
const CORE_OPS: Readonly<Record<string, CoreOps>> = {
  Fn_incident: INCIDENT_OPS,
  Fn_breaker: BREAKER_OPS,
  Fn_evaluate: EVALUATE_OPS,
  Fn_escalate: ESCALATE_OPS,
  Fn_approval_request: APPROVAL_REQUEST_OPS,
  Fn_report: REPORT_OPS,
  Fn_investigate: INVESTIGATE_OPS,
};

/** Dispatch by `FunctionName` key and `op`, as the compiled machines call them. */
export async function runCore(fn: string, payload: unknown, deps: CoreDeps): Promise<unknown> {
  const ops = Object.hasOwn(CORE_OPS, fn) ? CORE_OPS[fn] : undefined;
  if (!ops) throw new UnknownOperationError(fn, (payload as { op?: string } | null)?.op);
  return runCoreOp(fn, ops, payload, deps);
}
