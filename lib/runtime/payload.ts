/**
 * The variables a step's templates and conditions can read from what the compiled state machines
 * pass to every Lambda (the `Payload` of each Task, defined in lib/compiled/payload).
 */
import type { ExecutionRefs } from '../compiled/payload';

// The Task payloads' schemas are the compiler's and the runtime's one contract (lib/compiled/payload).
export { executionRefsSchema, incidentRefSchema, type ExecutionRefs, type IncidentRef } from '../compiled/payload';

/**
 * Variables of an execution: builtins from the incident, the context (alarm, metrics read), and
 * the outputs of the steps that ran (later steps win over earlier ones, outputs over context).
 */
export function executionVariables(refs: ExecutionRefs): Record<string, unknown> {
  const vars: Record<string, unknown> = {
    service: refs.incident.service,
    // By convention a service's Kubernetes deployment carries the service's name.
    deployment: refs.incident.service,
    incident_id: refs.incident.id,
    playbook: refs.incident.playbook,
    severity: refs.incident.severity,
    alarm_name: refs.incident.alarmName ?? null,
    alarm_reason: refs.incident.alarmReason ?? null,
    ...refs.context,
  };
  for (const result of Object.values(refs.steps)) Object.assign(vars, result.outputs ?? {});
  return vars;
}
