/**
 * The IAM check for the local engine: the synthesized stack resolved in the engine's world (its
 * table names, `arn:aws:states:local:000000000000:stateMachine:<playbook>`), and guards that stand
 * in for the AWS calls the engine makes locally without an SDK client: the notification channels
 * (secrets and SNS), Parameter Store (the config actions), the approval links' signing key.
 */
import type { ConfigOps } from '../../actions/ports';
import type { Channel, ChannelOutcome, Notifier } from '../../notify';
import { NOTIFIER_SECRETS } from '../../runtime/aws';
import { authorizeLocal, currentCaller, IamCheck } from './check';
import { AccessDeniedError } from './errors';
import type { IamRequest } from './requests';
import { readTemplate, stackFacts, synthesizeTemplate } from './template';

/** How the local engine gets its IAM check (`new LocalEngine({ iam })`, `sre-agent start --iam-check`). */
export interface LocalIamOptions {
  /**
   * A synthesized template (`cdk.out/SreAgent.template.json`).
   * @default - the stack synthesized in this process from the engine's manifest
   */
  readonly template?: string;
  /**
   * Changes the synthesized template before use: a test removes a grant to show a run then fails.
   * @default - none
   */
  readonly editTemplate?: (template: ReturnType<typeof synthesizeTemplate>) => void;
  /** false: record denials without failing the calls (to list every missing grant at once). @default true */
  readonly enforce?: boolean;
}

/** Synthesized templates of this process, by source: an engine restarted in the same process does not synthesize again. */
const TEMPLATES = new Map<string, string>();

/** The engine's IAM check: roles resolved against its table names and its machines' ARNs. */
export function localIamCheck(options: LocalIamOptions & { manifestFile?: string; tables: { incidents: string; breakers: string; approvals: string } }): IamCheck {
  const key = options.template ? `file:${options.template}` : `synth:${options.manifestFile ?? ''}`;
  let cached = TEMPLATES.get(key);
  if (!cached) {
    cached = JSON.stringify(options.template ? readTemplate(options.template) : synthesizeTemplate({ manifestFile: options.manifestFile }));
    TEMPLATES.set(key, cached);
  }
  const template = JSON.parse(cached) as ReturnType<typeof synthesizeTemplate>;
  options.editTemplate?.(template);
  return new IamCheck(stackFacts(template, { environment: { INCIDENTS_TABLE: options.tables.incidents, BREAKERS_TABLE: options.tables.breakers, APPROVALS_TABLE: options.tables.approvals } }), { enforce: options.enforce });
}

/** A variable of the current function's synthesized environment. */
function environmentOf(name: string): string | undefined {
  const caller = currentCaller();
  return caller ? caller.check.role(caller.fn).environment[name] : undefined;
}

function secretArn(check: IamCheck, name: string): string {
  const { partition, region, account } = check.facts;
  return `arn:${partition}:secretsmanager:${region}:${account}:secret:${name}-AbCdEf`;
}

/** The AWS calls a channel makes in a Lambda (lib/runtime/aws.ts awsNotifying): its secret, or the topic. */
function channelRequests(channel: Channel): IamRequest[] {
  const caller = currentCaller();
  if (!caller) return [];
  const prefix = environmentOf('SECRETS_PREFIX') ?? 'sre-agent/';
  switch (channel) {
    case 'pagerduty':
    case 'phone':
      return [{ action: 'secretsmanager:GetSecretValue', resource: secretArn(caller.check, `${prefix}${NOTIFIER_SECRETS.pagerdutyRoutingKey}`) }];
    case 'slack':
      return [{ action: 'secretsmanager:GetSecretValue', resource: secretArn(caller.check, `${prefix}${NOTIFIER_SECRETS.slackWebhookUrl}`) }];
    case 'email':
    case 'sns': {
      const topic = environmentOf('TOPIC_ARN');
      if (!topic) return [];
      const key = caller.check.facts.topicKeys.get(topic);
      return [{ action: 'sns:Publish', resource: topic }, ...(key ? [{ action: 'kms:GenerateDataKey', resource: key }, { action: 'kms:Decrypt', resource: key }] : [])];
    }
  }
}

/**
 * A notifier whose channels are checked as the current function: a channel whose secret or topic
 * the role may not use fails as it would in AWS (an outcome with the AccessDenied message, on the
 * timeline), and the check records the denial.
 */
export function guardedNotifier(inner: Notifier): Notifier {
  return {
    configured: inner.configured,
    send: async (n) => {
      if (!currentCaller()) return inner.send(n);
      const allowed: Channel[] = [];
      const denied: ChannelOutcome[] = [];
      for (const channel of n.channels) {
        try {
          await authorizeLocal(() => channelRequests(channel), `notify:${channel}`);
          allowed.push(channel);
        } catch (err) {
          if (!(err instanceof AccessDeniedError)) throw err;
          denied.push({ channel, ok: false, detail: `${err.name}: ${err.message}` });
        }
      }
      return [...(allowed.length > 0 ? await inner.send({ ...n, channels: allowed }) : []), ...denied];
    },
  };
}

/** Parameter Store as the config actions use it in AWS (lib/actions/config/ssm-config.ts), checked before the local store acts. */
export function guardedConfig(inner: ConfigOps): ConfigOps {
  const param = (kind: 'config' | 'flags', scope: string, key: string): string => {
    const caller = currentCaller();
    const prefix = (environmentOf('CONFIG_PARAMETER_PREFIX') ?? '/sre-agent').replace(/\/+$/, '').replace(/^\//, '');
    const { partition, region, account } = caller?.check.facts ?? { partition: 'aws', region: 'local', account: '000000000000' };
    return `arn:${partition}:ssm:${region}:${account}:parameter/${prefix}/${kind}/${scope}/${key}`;
  };
  return {
    name: inner.name,
    get: async (service, key) => {
      await authorizeLocal(() => [{ action: 'ssm:GetParameter', resource: param('config', service, key) }], 'ssm');
      return inner.get(service, key);
    },
    set: async (service, values) => {
      await authorizeLocal(() => Object.entries(values).map(([k, v]) => ({ action: v === null ? 'ssm:DeleteParameter' : 'ssm:PutParameter', resource: param('config', service, k) })), 'ssm');
      return inner.set(service, values);
    },
    getFlags: async (names, service) => {
      await authorizeLocal(() => names.map((f) => ({ action: 'ssm:GetParameters', resource: param('flags', service ?? 'global', f) })), 'ssm');
      return inner.getFlags(names, service);
    },
    setFlags: async (flags, service) => {
      await authorizeLocal(() => Object.entries(flags).map(([f, v]) => ({ action: v === null ? 'ssm:DeleteParameter' : 'ssm:PutParameter', resource: param('flags', service ?? 'global', f) })), 'ssm');
      return inner.setFlags(flags, service);
    },
  };
}

/** Reading the approval links' signing key (SIGNING_SECRET_ID of the approval functions). */
export async function authorizeSigningKey(): Promise<void> {
  await authorizeLocal(() => {
    const id = environmentOf('SIGNING_SECRET_ID');
    // A function without the variable cannot sign links in AWS: nothing to check here.
    return id ? [{ action: 'secretsmanager:GetSecretValue', resource: id }] : [];
  }, 'signing-key');
}

export { IamCheck };
