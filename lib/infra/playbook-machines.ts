/**
 * The compiled playbooks (statemachines/index.json and its *.asl.json) as Standard state
 * machines: every `${...}` placeholder resolved to a function ARN, lambda:InvokeFunction on
 * exactly the functions each machine uses, logs and X-Ray on. Alarm playbooks are started by
 * the trigger Lambda (it dedupes and names executions), scheduled ones by an EventBridge rule.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Annotations, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import * as z from '../yaml/zod';
import { actionFunctionKey, type Manifest } from '../compiled/manifest';
import { REPO_ROOT } from './agent-function';
import { StackConfigError } from './errors';

/** Where `npm run compile` writes the manifest. */
export const DEFAULT_MANIFEST_FILE = path.join(REPO_ROOT, 'statemachines', 'index.json');

/** How a machine is started: by its alarms' state changes, or on a schedule. */
const manifestTrigger = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('alarm'), alarmNamePrefix: z.string().check(z.minLength(1)) }),
  z.looseObject({ type: z.literal('schedule'), expression: z.string().check(z.regex(/^(rate|cron)\(.+\)$/, 'rate(...) or cron(...)')) }),
]);
/** The parts of the manifest this construct relies on, checked before use. */
const manifestSchema = z.looseObject({
  machines: z.array(
    z.looseObject({
      playbook: z.string().check(z.regex(/^[a-z0-9][a-z0-9_-]*$/, 'a playbook name (lower case, digits, - and _)')),
      file: z.string().check(z.minLength(1)),
      trigger: manifestTrigger,
      substitutions: z.array(z.string().check(z.regex(/^[A-Za-z0-9_]+$/))),
    }),
  ),
});

export interface PlaybookMachinesProps {
  /**
   * The manifest written by `npm run compile`.
   * @default <repo>/statemachines/index.json
   */
  readonly manifestFile?: string;
  /**
   * What a missing manifest means: true gives a stack without playbook machines and a warning
   * ("run npm run compile"), false an error.
   * @default - true for the default manifest, false for one given in `manifestFile`
   */
  readonly allowMissingManifest?: boolean;
  /**
   * Folder that the manifest's `file` paths are relative to.
   * @default the repository root
   */
  readonly rootDir?: string;
  /** Resolves a `${Fn_...}` placeholder to its core function (undefined: not a core key). */
  readonly coreFunction: (substitutionKey: string) => lambda.IFunction | undefined;
  /** Resolves an action name to its function (undefined: blacklisted or unknown). */
  readonly actionFunction: (action: string) => lambda.IFunction | undefined;
  /** Target of the alarm rules. */
  readonly triggerFunction: lambda.IFunction;
  /** Events EventBridge could not deliver to a target. */
  readonly deadLetterQueue: sqs.IQueue;
  /**
   * Key for the execution-history log group.
   * @default - CloudWatch Logs' own encryption
   */
  readonly logKey?: kms.IKey;
  /**
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

export class PlaybookMachines extends Construct {
  /** State machine per playbook name. */
  readonly machines: ReadonlyMap<string, sfn.StateMachine>;

  constructor(scope: Construct, id: string, props: PlaybookMachinesProps) {
    super(scope, id);
    const machines = new Map<string, sfn.StateMachine>();
    this.machines = machines;

    const manifestFile = props.manifestFile ?? DEFAULT_MANIFEST_FILE;
    if (!fs.existsSync(manifestFile)) {
      if (!(props.allowMissingManifest ?? props.manifestFile === undefined)) throw new StackConfigError(`playbook manifest ${manifestFile} does not exist; run npm run compile, or pass an existing manifestFile`, manifestFile);
      Annotations.of(this).addWarningV2(
        'sre-agent:noPlaybookManifest',
        `No ${path.relative(REPO_ROOT, manifestFile)}: the stack has no playbook state machines; run npm run compile, then synth again.`,
      );
      return;
    }
    const manifest = readManifest(manifestFile);
    if (manifest.machines.length === 0) return;

    const logGroup = new logs.LogGroup(this, 'ExecutionLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.logKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const rootDir = props.rootDir ?? REPO_ROOT;

    for (const m of manifest.machines) {
      if (machines.has(m.playbook)) throw new StackConfigError(`${manifestFile}: playbook "${m.playbook}" is listed twice`, `playbook ${m.playbook}`);
      const aslFile = path.resolve(rootDir, m.file);
      const functions = resolvePlaceholders(m, aslFile, props);
      const machine = new sfn.StateMachine(this, m.playbook, {
        stateMachineType: sfn.StateMachineType.STANDARD,
        definitionBody: sfn.DefinitionBody.fromFile(aslFile),
        definitionSubstitutions: Object.fromEntries([...functions].map(([key, fn]) => [key, fn.functionArn])),
        logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
        tracingEnabled: true,
      });
      // Unqualified ARNs only: the ASL invokes $LATEST by ARN, so no `:*` for versions and aliases.
      const arns = [...new Set([...functions.values()].map((fn) => fn.functionArn))];
      if (arns.length > 0) machine.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: arns }));
      Validations.of(machine.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'Added by CDK for logging and tracing: the CloudWatch Logs vended-log delivery actions (logs:CreateLogDelivery, PutResourcePolicy, DescribeLogGroups...) and X-Ray PutTraceSegments/PutTelemetryRecords/GetSampling* support no resource-level permissions, so Resource must be "*". lambda:InvokeFunction is scoped to the machine\'s own functions.',
      });
      this.addTrigger(m, machine, props);
      machines.set(m.playbook, machine);
    }
  }

  private addTrigger(m: ManifestMachine, machine: sfn.StateMachine, props: PlaybookMachinesProps): void {
    if (m.trigger.type === 'alarm') {
      new events.Rule(this, `${m.playbook}-alarm`, {
        description: `ALARM of alarms named ${m.trigger.alarmNamePrefix}* → trigger Lambda (playbook ${m.playbook})`,
        eventPattern: {
          source: ['aws.cloudwatch'],
          detailType: ['CloudWatch Alarm State Change'],
          detail: { alarmName: events.Match.prefix(m.trigger.alarmNamePrefix), state: { value: ['ALARM'] } },
        },
        targets: [new targets.LambdaFunction(props.triggerFunction, { deadLetterQueue: props.deadLetterQueue, maxEventAge: Duration.hours(1) })],
      });
      return;
    }
    new events.Rule(this, `${m.playbook}-schedule`, {
      description: `${m.trigger.expression} → playbook ${m.playbook}`,
      schedule: events.Schedule.expression(m.trigger.expression),
      targets: [
        new targets.SfnStateMachine(machine, {
          // No incident yet: the Start incident state opens one for the run.
          input: events.RuleTargetInput.fromObject({ context: { trigger: 'schedule', scheduled_at: events.EventField.time } }),
          deadLetterQueue: props.deadLetterQueue,
        }),
      ],
    });
  }
}

type ManifestMachine = z.infer<typeof manifestSchema>['machines'][number];

function readManifest(file: string): { machines: ManifestMachine[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest;
  } catch (e) {
    throw new StackConfigError(`playbook manifest ${file} is not JSON (${(e as Error).message}); run npm run compile again`, file, { cause: e });
  }
  const result = manifestSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new StackConfigError(`playbook manifest ${file} does not have the shape lib/playbook/manifest.ts describes: ${problems}`, file);
  }
  return result.data;
}

/**
 * The function behind each placeholder of a machine. Fails when the ASL holds a placeholder the
 * manifest does not list, or the manifest lists one the stack cannot resolve (a blacklisted or
 * unknown action, an unknown core key): the machine would fail at deploy or at run time.
 */
function resolvePlaceholders(m: ManifestMachine, aslFile: string, props: PlaybookMachinesProps): Map<string, lambda.IFunction> {
  if (!fs.existsSync(aslFile)) throw new StackConfigError(`playbook ${m.playbook}: ASL file ${aslFile} does not exist; run npm run compile`, `playbook ${m.playbook}`);
  const inAsl = new Set([...fs.readFileSync(aslFile, 'utf8').matchAll(/\$\{([^}]*)\}/g)].map((x) => x[1] ?? ''));
  const unlisted = [...inAsl].filter((k) => !m.substitutions.includes(k));
  if (unlisted.length > 0) throw new StackConfigError(`playbook ${m.playbook}: ${m.file} uses \${${unlisted.join('}, ${')}} but the manifest does not list them in substitutions; run npm run compile`, `playbook ${m.playbook}`);

  const functions = new Map<string, lambda.IFunction>();
  for (const key of m.substitutions) {
    const action = key.startsWith(actionFunctionKey('')) ? key.slice(actionFunctionKey('').length) : undefined;
    const fn = action !== undefined ? props.actionFunction(action) : props.coreFunction(key);
    if (!fn) {
      const what = action !== undefined ? `action "${action}" has no function (blacklisted or not in the registry)` : 'it is neither a core function key nor Action_<name>';
      throw new StackConfigError(`playbook ${m.playbook}: placeholder \${${key}} cannot be resolved: ${what}. A blacklisted action must never be invoked by a machine; fix the playbook and run npm run compile`, `playbook ${m.playbook}`);
    }
    functions.set(key, fn);
  }
  return functions;
}
