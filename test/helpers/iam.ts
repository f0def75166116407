/**
 * The IAM check in tests (lib/local/iam). The e2e tests run the local engine under it; the
 * Lambda-handler integration tests (test/integration/*-lambda) run each handler module as its
 * function of the synthesized stack: DynamoDB calls on the real client (dynalite) through the SDK
 * hook, aws-sdk-client-mock fakes through `checkedFake`, since a mocked client never reaches the
 * hook's middleware.
 */
import type { LocalEngine } from '../../lib/local/engine';
import { currentCaller, FUNCTION_METADATA_KEY, IamCheck, stackFacts, synthesizeTemplate, type CfnTemplate } from '../../lib/local/iam';

/** Fails naming every denied call (function, action, resource) of the engine's run. */
export function expectNoDenials(engine: LocalEngine): void {
  expect(engine.iam).toBeDefined();
  expect(engine.iam?.denials().map((d) => `${d.function}: ${d.action} on ${d.resource}${d.context ? ` ${JSON.stringify(d.context)}` : ''} (${d.via})`)).toEqual([]);
}

/** What aws-sdk-client-mock's `mockClient` returns (only `calls()` is read here). */
interface RecordedCalls {
  calls(): readonly { readonly args: readonly unknown[] }[];
}

/**
 * Every call a mocked SDK client recorded, evaluated as function `fn` under its synthesized role
 * (aws-sdk-client-mock replaces `send`, so the IAM check's SDK middleware never saw them): the
 * denied ones, as `action on resource`. At least one call must have been recorded.
 */
export async function deniedCalls(check: IamCheck, fn: string, clientName: string, mock: RecordedCalls): Promise<string[]> {
  const before = check.decisions.length;
  const calls = mock.calls();
  expect(calls.length).toBeGreaterThan(0);
  for (const call of calls) {
    const command = call.args[0] as { constructor: { name: string }; input: Record<string, unknown> };
    await check.authorizeCommand(fn, clientName, command.constructor.name, command.input);
  }
  return check.decisions.slice(before).filter((d) => !d.allowed).map((d) => `${d.action} on ${d.resource}`);
}

/** Account and region of the Lambda-handler tests' world (lambdaEnvironment's AWS_REGION and TOPIC_ARN). */
export const LAMBDA_TEST_ACCOUNT = '123456789012';
export const LAMBDA_TEST_REGION = 'us-east-1';

/** The stack synthesized in this test file (a few seconds: once per file, whichever check asks first). */
let synthesized: string | undefined;

/**
 * The IAM check of a Lambda-handler test: the synthesized stack's roles resolved in the test's
 * world, whose physical names are the values of `environment` (the one the handlers get:
 * INCIDENTS_TABLE 'inc', TOPIC_ARN, SIGNING_SECRET_ID, REPORTS_BUCKET...; variables that are not
 * references to a resource of the stack are ignored). Run the handler with `check.runAs(fn, ...)`
 * after `installSdkHook()`.
 *
 * @param options.editTemplate changes a copy of the template first: a denied twin takes a grant out (see {@link withoutGrant}).
 * @param options.enforce false: record denials without failing the calls. @default true
 */
export function lambdaIamCheck(environment: Readonly<Record<string, string>>, options: { editTemplate?: (t: CfnTemplate) => void; enforce?: boolean } = {}): IamCheck {
  synthesized ??= JSON.stringify(synthesizeTemplate());
  const template = JSON.parse(synthesized) as CfnTemplate;
  options.editTemplate?.(template);
  return new IamCheck(stackFacts(template, { account: LAMBDA_TEST_ACCOUNT, region: LAMBDA_TEST_REGION, environment }), { enforce: options.enforce });
}

/**
 * Takes IAM action `action` out of every statement of function `fn`'s role (a statement left with
 * no action goes): that function's calls needing it are then denied as AWS denies them.
 *
 * @example lambdaIamCheck(env, { editTemplate: withoutGrant('trigger', 'states:StartExecution') })
 */
export function withoutGrant(fn: string, action: string): (t: CfnTemplate) => void {
  return (t) => {
    const lambda = Object.values(t.Resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.[FUNCTION_METADATA_KEY] === fn);
    if (!lambda) throw new Error(`withoutGrant: no function ${fn} in the template`);
    const role = (lambda.Properties?.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
    let removed = 0;
    for (const r of Object.values(t.Resources)) {
      if (r.Type !== 'AWS::IAM::Policy' || !((r.Properties?.Roles as { Ref?: string }[] | undefined) ?? []).some((x) => x.Ref === role)) continue;
      const doc = r.Properties?.PolicyDocument as { Statement: { Action: string | string[] }[] };
      doc.Statement = doc.Statement.flatMap((st) => {
        const actions = [st.Action].flat();
        if (!actions.includes(action)) return [st];
        removed += 1;
        const rest = actions.filter((a) => a !== action);
        return rest.length > 0 ? [{ ...st, Action: rest }] : [];
      });
    }
    if (removed === 0) throw new Error(`withoutGrant: the role of ${fn} has no statement granting ${action}`);
  };
}

/**
 * A fake for aws-sdk-client-mock's `callsFake` that first authorizes the command as the function
 * the call runs as (mocked clients bypass the SDK hook's middleware): a denied call throws
 * AccessDeniedException (and kin) as AWS does, and the check records the decision.
 *
 * @example sfn.on(StopExecutionCommand).callsFake(checkedFake(SFNClient, StopExecutionCommand, () => ({ stopDate: new Date() })))
 */
export function checkedFake<TInput extends object, TOutput>(client: { readonly name: string }, command: { readonly name: string }, fake: (input: TInput) => TOutput | Promise<TOutput>): (input: TInput) => Promise<TOutput> {
  return async (input) => {
    const caller = currentCaller();
    if (caller) await caller.check.authorizeCommand(caller.fn, client.name, command.name, input as Record<string, unknown>);
    return fake(input);
  };
}

/** The distinct resources function `fn` was allowed IAM action `action` on, in order of first use. */
export function allowedResources(check: IamCheck, fn: string, action: string): string[] {
  return [...new Set(check.decisions.filter((d) => d.function === fn && d.action === action && d.allowed).map((d) => d.resource))];
}
