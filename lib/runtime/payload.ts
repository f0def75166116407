/**
 * What the compiled state machines pass to every Lambda (the `Payload` of each Task), and the
 * variables a step's templates and conditions can read from it.
 */
import { z } from 'zod';

export const incidentRefSchema = z.looseObject({
  id: z.string().min(1),
  playbook: z.string().min(1),
  service: z.string().min(1),
  severity: z.enum(['LOW', 'MEDIUM', 'HIGH', 'CRITICAL']),
  alarmName: z.string().optional(),
  alarmReason: z.string().optional(),
});
export type IncidentRef = z.infer<typeof incidentRefSchema>;

const stepResultSchema = z.looseObject({ summary: z.string().optional(), outputs: z.record(z.string(), z.unknown()).nullish() });

/** Fields every Task payload carries (CONTEXT_REFS in the compiler). */
export const executionRefsSchema = z.object({
  incident: incidentRefSchema,
  context: z.record(z.string(), z.unknown()).default({}),
  steps: z.record(z.string(), stepResultSchema).default({}),
});
export type ExecutionRefs = z.infer<typeof executionRefsSchema>;

/** The payload of an action Task. */
export const actionInvocationSchema = executionRefsSchema.extend({
  step: z.string().min(1),
  action: z.string().min(1),
  params: z.record(z.string(), z.unknown()).default({}),
  risk: z.enum(['LOW', 'MEDIUM', 'HIGH', 'CRITICAL']),
  mode: z.enum(['auto', 'approval']),
  approvers: z.array(z.string()).default([]),
  approval: z.unknown().optional(),
});
export type ActionInvocation = z.infer<typeof actionInvocationSchema>;

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
