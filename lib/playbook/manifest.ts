/**
 * What `npm run compile` writes beside the state machines (statemachines/index.json), and the
 * names of the `${...}` placeholders in the ASL. The CDK stack reads both: one source of truth.
 */

/** Core functions every compiled machine may call, by DefinitionSubstitutions key. */
export const CORE_FUNCTIONS = {
  evaluate: 'Fn_evaluate',
  breaker: 'Fn_breaker',
  approvalRequest: 'Fn_approval_request',
  escalate: 'Fn_escalate',
  incident: 'Fn_incident',
  report: 'Fn_report',
} as const;
export type CoreFunction = keyof typeof CORE_FUNCTIONS;

/** DefinitionSubstitutions key of an action's Lambda: `Action_patch_hpa_max`. */
export function actionFunctionKey(action: string): string {
  return `Action_${action}`;
}

export type MachineTrigger =
  | {
      readonly type: 'alarm';
      /**
       * Alarm names that start `sre-agent/<playbook>/<service>/` trigger this machine (the
       * trigger Lambda parses the service from the name).
       */
      readonly alarmNamePrefix: string;
      /** Service used when an alarm names none. */
      readonly defaultService?: string;
      /** Detection metrics that get a CloudWatch alarm in the stack. */
      readonly metrics: readonly { readonly metric: string; readonly threshold: string; readonly source: string }[];
    }
  | { readonly type: 'schedule'; readonly expression: string };

export interface MachineManifest {
  readonly playbook: string;
  /** Path of the ASL file relative to the repository root. */
  readonly file: string;
  readonly source: string;
  readonly risk: string;
  readonly trigger: MachineTrigger;
  /** Actions the machine invokes (each gets one Lambda). */
  readonly actions: readonly string[];
  /** Every `${key}` placeholder in the ASL. */
  readonly substitutions: readonly string[];
  /** The machine's overall TimeoutSeconds. */
  readonly timeoutSeconds: number;
  /** State transitions on the full-remediation path and on the quiet path (every condition false). */
  readonly transitions: { readonly fullPath: number; readonly quietPath: number };
}

export interface Manifest {
  readonly generated: string;
  readonly machines: readonly MachineManifest[];
}
