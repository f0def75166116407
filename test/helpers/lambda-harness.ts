/**
 * The set-up of a Lambda-handler integration test (test/integration/*-lambda): a dynalite with the
 * test tables, process.env as the deployed function gets it (lambdaEnvironment), the IAM check of
 * the synthesized stack in that world (lambdaIamCheck) and the SDK hook through which the real
 * clients' calls reach it; all undone after the file's tests.
 */
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { createTables, startDynalite, type LocalDynamo } from '../../lib/local/dynalite';
import { installSdkHook, uninstallSdkHook, type IamCheck } from '../../lib/local/iam';
import { lambdaIamCheck } from './iam';
import { LAMBDA_TEST_TABLES, lambdaEnvironment } from './lambda-env';

/** What a test reads once the harness has started (in its hooks and tests, not at the file's top level). */
export interface LambdaHarness {
  /** The dynalite holding LAMBDA_TEST_TABLES (and the dedupe table if asked for). */
  readonly dynamo: LocalDynamo;
  /** The IAM check the functions run under (`check.runAs(fn, ...)`), the stack's roles as they are. */
  readonly check: IamCheck;
  /** The environment the handlers got (also in process.env): pass it to lambdaIamCheck for a denied twin. */
  readonly env: Readonly<Record<string, string>>;
}

export interface LambdaHarnessOptions {
  /** Variables beyond lambdaEnvironment's (EKS_CLUSTER_NAME, SIGNING_SECRET_ID, REDIS_URL...). */
  readonly environment?: Record<string, string>;
  /**
   * Also creates the Powertools idempotency table DEDUPE_TABLE names (key `id`), as the trigger's stack does.
   * @default false
   */
  readonly dedupeTable?: boolean;
  /** Runs once the tables exist, before process.env is set (a server the function reaches, mocks that need it). */
  readonly beforeEnvironment?: (dynamo: LocalDynamo) => Promise<void> | void;
  /** Runs last in beforeAll, process.env set and the SDK hook installed: import here a handler module that reads process.env as it loads. */
  readonly afterStart?: (harness: LambdaHarness) => Promise<void> | void;
  /** Runs in afterAll after the SDK hook is uninstalled and process.env restored, before dynalite stops (mocks to restore, servers to close). */
  readonly beforeStop?: () => Promise<void> | void;
  /**
   * beforeAll's timeout (the first IAM check of a file synthesizes the stack: a few seconds).
   * @default 60_000
   */
  readonly timeoutMs?: number;
}

/**
 * Registers the file's beforeAll and afterAll for running Lambda handlers on dynalite under the
 * IAM check of their synthesized roles; call it at the top level of a test file. The returned
 * object's fields are there from beforeAll on.
 *
 * @example
 * const lambda = lambdaHarness({ environment: { SIGNING_SECRET_ID: SECRET_ARN }, afterStart: async () => ({ handler } = await import('../../lambdas/approval-callback')) });
 * it('...', async () => { await lambda.check.runAs('approvalCallback', () => handler(event)); });
 */
export function lambdaHarness(options: LambdaHarnessOptions = {}): LambdaHarness {
  const savedEnv = { ...process.env };
  let dynamo: LocalDynamo | undefined;
  let started: LambdaHarness | undefined;
  const read = <K extends keyof LambdaHarness>(field: K): LambdaHarness[K] => {
    if (!started) throw new Error(`lambdaHarness: ${field} is read before beforeAll started the harness (read it inside a hook or a test)`);
    return started[field];
  };
  const harness: LambdaHarness = {
    get dynamo() {
      return read('dynamo');
    },
    get check() {
      return read('check');
    },
    get env() {
      return read('env');
    },
  };

  beforeAll(async () => {
    dynamo = await startDynalite();
    await createTables(dynamo.client, LAMBDA_TEST_TABLES);
    const env = lambdaEnvironment(dynamo.endpoint, options.environment);
    if (options.dedupeTable) {
      await dynamo.client.send(new CreateTableCommand({ TableName: env.DEDUPE_TABLE, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }] }));
    }
    await options.beforeEnvironment?.(dynamo);
    Object.assign(process.env, env);
    started = { dynamo, env, check: lambdaIamCheck(env) };
    installSdkHook();
    await options.afterStart?.(harness);
  }, options.timeoutMs ?? 60_000);

  afterAll(async () => {
    uninstallSdkHook();
    process.env = savedEnv;
    await options.beforeStop?.();
    await dynamo?.stop();
  });

  return harness;
}
