/**
 * Starting playbook executions, one port with two hosts: AWS Step Functions (StartExecution,
 * Standard workflows, whose execution names make redelivered alarms idempotent) and the local engine.
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import { StateMachineNotDeployedError } from './errors';

export interface StartRequest {
  readonly playbook: string;
  /** 1-80 characters, no whitespace or brackets: derived from the incident id. */
  readonly name: string;
  readonly input: unknown;
}

export interface StartResult {
  readonly executionArn: string;
  /** True when an execution with this name already existed: nothing new was started. */
  readonly alreadyStarted: boolean;
}

export interface ExecutionStarter {
  startExecution(req: StartRequest): Promise<StartResult>;
}

/** `INC-20260209-001` → `INC-20260209-001` (names allow letters, digits, - and _). */
export function executionName(incidentId: string): string {
  return incidentId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80);
}

/**
 * Step Functions in AWS. `stateMachines`: playbook → state machine ARN (from the stack). The SDK
 * package is loaded at the first start, not at cold start (pass a `lazyClient`, lib/runtime/lazy-sdk.ts).
 */
export class StepFunctionsStarter implements ExecutionStarter {
  public constructor(
    private readonly sfn: Pick<SFNClient, 'send'>,
    private readonly stateMachines: Readonly<Record<string, string>>,
  ) {}

  public async startExecution(req: StartRequest): Promise<StartResult> {
    const arn = this.stateMachines[req.playbook];
    if (!arn) throw new StateMachineNotDeployedError(req.playbook);
    const { StartExecutionCommand } = await import('@aws-sdk/client-sfn');
    try {
      const out = await this.sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: req.name, input: JSON.stringify(req.input) }));
      return { executionArn: out.executionArn!, alreadyStarted: false };
    } catch (err) {
      // Same name, closed run or different input: the execution for this incident exists already.
      if ((err as { name?: unknown }).name === 'ExecutionAlreadyExists') {
        return { executionArn: `${arn.replace(':stateMachine:', ':execution:')}:${req.name}`, alreadyStarted: true };
      }
      throw err;
    }
  }
}
