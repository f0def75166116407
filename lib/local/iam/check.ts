/**
 * The IAM check: each in-process handler runs as its function of the synthesized stack, and every
 * AWS call it makes (an SDK command, or a local stand-in for one: StartExecution, SendTaskSuccess,
 * GetMetricData, Publish...) is evaluated against that function's role with
 * @cloud-copilot/iam-simulate and denied as AWS denies it (AccessDeniedException and kin).
 *
 * Which function is calling is carried by AsyncLocalStorage (`runAs`): everything a handler
 * awaits, and everything it starts, runs as that function. Calls outside any function (the
 * engine's own bookkeeping, a test seeding data, an operator's CLI) are not Lambda calls and are
 * not checked. The SDK hook puts a middleware on every AWS SDK client, once, at its first send
 * after `installSdkHook()` (the clients a function's code creates included): it is for local
 * runs and tests only, never bundled into a Lambda.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { AccessDeniedError, IamCheckError, UnknownFunctionError, UnmappedCallError } from './errors';
import { denialCode, iamRequests, type IamRequest, type RequestWorld } from './requests';
import type { FunctionRole, StackFacts } from './template';

/** One evaluated call. */
export interface IamDecision {
  readonly function: string;
  readonly action: string;
  readonly resource: string;
  readonly context?: IamRequest['context'];
  readonly allowed: boolean;
  /** For a denial: explicit deny or no allow. */
  readonly why?: 'explicit-deny' | 'no-allow';
  /** What made the call (`DynamoDBClient.PutItemCommand`, `local:StartExecution`). */
  readonly via: string;
}

/** Options of {@link IamCheck}. */
export interface IamCheckOptions {
  /** Tags of resources (RDS parameter groups, ElastiCache replication groups) for tag conditions. @default none */
  readonly tagsOf?: (arn: string) => Readonly<Record<string, string>> | undefined;
  /**
   * false: record denials (see `denials()`) without failing the call, to list every missing grant
   * of a run at once.
   * @default true
   */
  readonly enforce?: boolean;
}

type Simulate = typeof import('@cloud-copilot/iam-simulate').runSimulation;

/**
 * Evaluates calls against the synthesized roles.
 *
 * @example
 * const check = new IamCheck(stackFacts(synthesizeTemplate(), { environment: { INCIDENTS_TABLE: 'sre-agent-incidents' } }));
 * await check.runAs('action:redis_command', () => handler(event)); // denied calls throw AccessDeniedException
 * check.denials() // [] when every call was allowed
 */
export class IamCheck {
  /** Every evaluated call, in order (duplicates included). */
  public readonly decisions: IamDecision[] = [];
  private readonly cache = new Map<string, Promise<{ allowed: boolean; why?: 'explicit-deny' | 'no-allow' }>>();
  private simulate?: Promise<Simulate>;
  private readonly world: RequestWorld;
  private readonly enforce: boolean;

  public constructor(
    public readonly facts: StackFacts,
    options: IamCheckOptions = {},
  ) {
    this.world = { facts, tagsOf: options.tagsOf };
    this.enforce = options.enforce ?? true;
  }

  /** The function ids of the stack. */
  public get functions(): string[] {
    return [...this.facts.functions.keys()];
  }

  /** The role of a function. @throws UnknownFunctionError */
  public role(fn: string): FunctionRole {
    const role = this.facts.functions.get(fn);
    if (!role) throw new UnknownFunctionError(fn, this.functions);
    return role;
  }

  /** Runs `work` as function `fn`: its AWS calls are checked against that function's role. */
  public runAs<T>(fn: string, work: () => T): T {
    this.role(fn);
    return CALLER.run({ check: this, fn }, work);
  }

  /** The calls that were denied. */
  public denials(): IamDecision[] {
    return this.decisions.filter((d) => !d.allowed);
  }

  /**
   * Authorizes requests as function `fn`.
   * @throws AccessDeniedError (named as the service names it) for the first request the role does not allow.
   */
  public async authorize(fn: string, requests: readonly IamRequest[], via: string): Promise<void> {
    const role = this.role(fn);
    for (const req of requests) {
      const verdict = await this.evaluate(role, req);
      this.decisions.push({ function: fn, action: req.action, resource: req.resource, ...(req.context ? { context: req.context } : {}), allowed: verdict.allowed, ...(verdict.why ? { why: verdict.why } : {}), via });
      if (!verdict.allowed && this.enforce) {
        const { code, status } = denialCode(req.action.split(':')[0] as string);
        throw new AccessDeniedError({ code, status, fn, roleName: role.roleName, action: req.action, resource: req.resource, explicit: verdict.why === 'explicit-deny', account: this.facts.account, partition: this.facts.partition });
      }
    }
  }

  /**
   * Authorizes one SDK command as function `fn`.
   * @throws UnmappedCallError for a command the check cannot map (a gap to close, never an allow).
   */
  public async authorizeCommand(fn: string, clientName: string, commandName: string, input: Record<string, unknown>): Promise<void> {
    const requests = iamRequests(clientName, commandName, input, this.world);
    if (requests === undefined) throw new UnmappedCallError(fn, `${clientName}.${commandName}`);
    await this.authorize(fn, requests, `${clientName}.${commandName}`);
  }

  private evaluate(role: FunctionRole, req: IamRequest): Promise<{ allowed: boolean; why?: 'explicit-deny' | 'no-allow' }> {
    const key = JSON.stringify([role.id, req.action, req.resource, req.context ?? {}]);
    let hit = this.cache.get(key);
    if (!hit) {
      hit = this.run(role, req);
      this.cache.set(key, hit);
    }
    return hit;
  }

  private async run(role: FunctionRole, req: IamRequest): Promise<{ allowed: boolean; why?: 'explicit-deny' | 'no-allow' }> {
    // Loaded on first use: the simulator and its IAM data are only needed when the check is on.
    this.simulate ??= import('@cloud-copilot/iam-simulate').then((m) => m.runSimulation);
    const simulate = await this.simulate;
    const result = await simulate(
      {
        request: {
          principal: role.roleArn,
          action: req.action,
          resource: { resource: req.resource, accountId: this.facts.account },
          // The SDK always calls over TLS (the topic's and queue's policies deny anything else).
          contextVariables: { 'aws:SecureTransport': 'true', ...Object.fromEntries(Object.entries(req.context ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : [...v]])) },
        },
        identityPolicies: role.policies.map((p) => ({ name: p.name, policy: p.document })),
        ...(resourcePolicyOf(this.facts, req.resource) ? { resourcePolicy: resourcePolicyOf(this.facts, req.resource) } : {}),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
      },
      {},
    );
    if (result.resultType === 'error') throw new IamCheckError(`IAM simulation of ${req.action} on ${req.resource} for ${role.id} failed: ${result.errors.message}`);
    if (result.overallResult === 'Allowed') return { allowed: true };
    return { allowed: false, why: result.overallResult === 'ExplicitlyDenied' ? 'explicit-deny' : 'no-allow' };
  }
}

/** The resource policy that governs an ARN: its own, or for an S3 object its bucket's. */
function resourcePolicyOf(facts: StackFacts, resource: string): StackFacts['resourcePolicies'] extends ReadonlyMap<string, infer P> ? P | undefined : never {
  const own = facts.resourcePolicies.get(resource);
  if (own !== undefined) return own;
  const object = /^(arn:[^:]+:s3:::[^/]+)\//.exec(resource);
  return object ? facts.resourcePolicies.get(object[1] as string) : undefined;
}

/** Which function is calling, and the check it runs under. */
const CALLER = new AsyncLocalStorage<{ check: IamCheck; fn: string }>();

/** The function the current call runs as, if any. */
export function currentCaller(): { check: IamCheck; fn: string } | undefined {
  return CALLER.getStore();
}

/**
 * Checks a local stand-in for an AWS call (the local engine's StartExecution, task tokens, metric
 * store...) as the current function, if any; outside a function it does nothing.
 */
export async function authorizeLocal(requests: readonly IamRequest[] | (() => readonly IamRequest[]), via: string): Promise<void> {
  const caller = CALLER.getStore();
  if (!caller) return;
  await caller.check.authorize(caller.fn, typeof requests === 'function' ? requests() : requests, `local:${via}`);
}

const MIDDLEWARE_NAME = 'sreAgentIamCheck';
const instrumented = new WeakSet<object>();
let unhook: (() => void) | undefined;

/**
 * Puts the IAM middleware on every AWS SDK client at its first send from now on (idempotent).
 * The middleware checks the command as the current function (see IamCheck.runAs) and does
 * nothing outside one.
 */
export function installSdkHook(): void {
  if (unhook) return;
  const { Client } = require('@smithy/core/client') as { Client: { prototype: { send: (...args: unknown[]) => unknown } } };
  const original = Client.prototype.send;
  Client.prototype.send = function send(this: { middlewareStack: { add: (mw: unknown, opts: unknown) => void } }, ...args: unknown[]) {
    // Document clients share their client's stack: instrument the stack once.
    if (!instrumented.has(this.middlewareStack)) {
      instrumented.add(this.middlewareStack);
      this.middlewareStack.add(
        (next: (args: unknown) => Promise<unknown>, context: { clientName?: string; commandName?: string }) => async (a: { input?: Record<string, unknown> }) => {
          const caller = CALLER.getStore();
          if (caller) await caller.check.authorizeCommand(caller.fn, context.clientName ?? '?', context.commandName ?? '?', a.input ?? {});
          return next(a);
        },
        { step: 'initialize', priority: 'high', name: MIDDLEWARE_NAME },
      );
    }
    return original.apply(this, args);
  };
  unhook = () => {
    Client.prototype.send = original;
  };
}

/** Removes the hook (clients already instrumented keep a middleware that, outside a function, does nothing). */
export function uninstallSdkHook(): void {
  unhook?.();
  unhook = undefined;
}
