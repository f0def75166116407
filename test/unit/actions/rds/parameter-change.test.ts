/**
 * rds_parameter_change over the RDS API (aws-sdk-client-mock at the SDK boundary, with the
 * request and response shapes of DescribeDBInstances, DescribeDBParameters and
 * ModifyDBParameterGroup), and the formula table it resolves defaults with.
 */
import { DescribeDBInstancesCommand, DescribeDBParametersCommand, ModifyDBParameterGroupCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { action } from '../../../../lib/actions/rds_parameter_change';
import { AwsRdsParameters } from '../../../../lib/actions/rds/aws-parameters';
import { instanceClassResources, resolveFormula } from '../../../../lib/actions/rds/formula';
import { actionContext } from '../../../helpers/action-context';
import { loadPolicy } from '../../../../lib/policy/files';

const rdsMock = mockClient(RDSClient);
const INSTANCE = 'orderbook-db';

function instance(group: string, instanceClass = 'db.r6g.large') {
  rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: INSTANCE }).resolves({
    DBInstances: [{ DBInstanceIdentifier: INSTANCE, DBInstanceClass: instanceClass, Engine: 'mysql', DBParameterGroups: [{ DBParameterGroupName: group, ParameterApplyStatus: 'in-sync' }] }],
  });
}

/** Two pages, max_connections on the second, as DescribeDBParameters pages with Marker. */
function parameters(group: string, value: string, extra: Record<string, unknown> = {}) {
  rdsMock.on(DescribeDBParametersCommand, { DBParameterGroupName: group, Marker: undefined }).resolves({
    Parameters: [{ ParameterName: 'innodb_buffer_pool_size', ParameterValue: '{DBInstanceClassMemory*3/4}', ApplyType: 'static', IsModifiable: true }],
    Marker: 'page-2',
  });
  rdsMock.on(DescribeDBParametersCommand, { DBParameterGroupName: group, Marker: 'page-2' }).resolves({
    Parameters: [{ ParameterName: 'max_connections', ParameterValue: value, ApplyType: 'dynamic', IsModifiable: true, Source: 'engine-default', DataType: 'integer', ...extra }],
  });
}

function context() {
  return actionContext({ targets: { rds: new AwsRdsParameters({ client: new RDSClient({ region: 'us-east-1' }), instance: INSTANCE }) }, policy: loadPolicy(), step: 'increase_max_connections' });
}

beforeEach(() => rdsMock.reset());

describe('rds_parameter_change on RDS', () => {
  it('raises max_connections to current * 1.5 in the instance\'s group with ApplyMethod immediate', async () => {
    // prepare: a custom group holding 1000
    instance('orderbook-mysql80');
    parameters('orderbook-mysql80', '1000');
    rdsMock.on(ModifyDBParameterGroupCommand).callsFake(() => {
      parameters('orderbook-mysql80', '1500');
      return { DBParameterGroupName: 'orderbook-mysql80' };
    });

    // act
    const result = await action.run({ parameter: 'max_connections', new_value: 'current * 1.5' }, context());

    // assess
    const modify = rdsMock.commandCalls(ModifyDBParameterGroupCommand);
    expect(modify).toHaveLength(1);
    expect(modify[0]!.args[0].input).toEqual({ DBParameterGroupName: 'orderbook-mysql80', Parameters: [{ ParameterName: 'max_connections', ParameterValue: '1500', ApplyMethod: 'immediate' }] });
    expect(result.before).toMatchObject({ group: 'orderbook-mysql80', instance: INSTANCE, max_connections: 1000 });
    expect(result.after).toMatchObject({ max_connections: 1500 });
    expect(result.outputs).toEqual({ previous_value: 1000, new_value: 1500 });
  });

  it('resolves the default formula {DBInstanceClassMemory/12582880} from the instance class', async () => {
    instance('orderbook-mysql80', 'db.r6g.large');
    parameters('orderbook-mysql80', '{DBInstanceClassMemory/12582880}');
    rdsMock.on(ModifyDBParameterGroupCommand).resolves({ DBParameterGroupName: 'orderbook-mysql80' });

    const result = await action.run({ parameter: 'max_connections', new_value: 'current * 1.5' }, context());

    // 16 GiB / 12582880 = 1365 (truncated); × 1.5 = 2047.5 → 2048
    expect(result.outputs).toEqual({ previous_value: 1365, new_value: 2048 });
    expect(result.summary).toContain('1365 (was {DBInstanceClassMemory/12582880}) → 2048');
  });

  it('refuses a default parameter group with the fix in the message, and modifies nothing', async () => {
    instance('default.mysql8.0');
    parameters('default.mysql8.0', '{DBInstanceClassMemory/12582880}');

    const run = action.run({ parameter: 'max_connections', new_value: 'current * 1.5' }, context());

    await expect(run).rejects.toMatchObject({ name: 'InvalidParameterError', target: 'default.mysql8.0' });
    await expect(run).rejects.toThrow(/default parameter group default\.mysql8\.0.*Fix: create a custom DB parameter group of the same family \(copy default\.mysql8\.0\), attach it to orderbook-db/);
    expect(rdsMock.commandCalls(ModifyDBParameterGroupCommand)).toHaveLength(0);
  });

  it('refuses a value over the policy ceiling (max_parameter_factor × current) and modifies nothing', async () => {
    instance('orderbook-mysql80');
    parameters('orderbook-mysql80', '1000');

    await expect(action.run({ parameter: 'max_connections', new_value: 'current * 3' }, context())).rejects.toMatchObject({ name: 'PolicyViolationError', message: expect.stringContaining('over 2 × current (1000) = 2000') });
    expect(rdsMock.commandCalls(ModifyDBParameterGroupCommand)).toHaveLength(0);
  });

  it('refuses a static parameter (it would need a reboot)', async () => {
    instance('orderbook-mysql80');
    parameters('orderbook-mysql80', '1000', { ApplyType: 'static' });

    await expect(action.run({ parameter: 'max_connections', new_value: 'current * 1.5' }, context())).rejects.toThrow(/static .*reboot, which the agent never does/);
    expect(rdsMock.commandCalls(ModifyDBParameterGroupCommand)).toHaveLength(0);
  });

  it('names the instance when it does not exist (TargetNotFoundError, not retried)', async () => {
    rdsMock.on(DescribeDBInstancesCommand).rejects(Object.assign(new Error('DBInstance orderbook-db not found.'), { name: 'DBInstanceNotFoundFault' }));

    await expect(action.run({ parameter: 'max_connections', new_value: 'current * 1.5' }, context())).rejects.toMatchObject({ name: 'TargetNotFoundError', target: INSTANCE });
  });

  it('retries a throttled ModifyDBParameterGroup (TransientTargetError naming the group)', async () => {
    instance('orderbook-mysql80');
    parameters('orderbook-mysql80', '1000');
    rdsMock.on(ModifyDBParameterGroupCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    await expect(action.run({ parameter: 'max_connections', new_value: 'current * 1.5' }, context())).rejects.toMatchObject({ name: 'TransientTargetError', target: 'orderbook-mysql80' });
  });

  it('fails without an RDS target instead of pretending', async () => {
    await expect(action.run({ parameter: 'max_connections', new_value: 'current * 1.5' }, actionContext())).rejects.toMatchObject({ name: 'TargetNotConfiguredError' });
  });
});

describe('Function: resolveFormula', () => {
  it.each([
    ['{DBInstanceClassMemory/12582880}', 'db.r6g.large', 1365],
    ['{DBInstanceClassMemory/12582880}', 'db.t3.micro', 85],
    ['LEAST({DBInstanceClassMemory/9531392},5000)', 'db.m6g.large', 901],
    ['LEAST({DBInstanceClassMemory/9531392},5000)', 'db.r6g.4xlarge', 5000],
    ['GREATEST({log(DBInstanceClassMemory/805306368)*45},{log(DBInstanceClassMemory/8187281408)*1000})', 'db.r5.large', 1069],
    ['{DBInstanceVCPU*2}', 'db.r7g.xlarge', 8],
    ['1000', 'db.r6g.large', 1000],
  ])('%s on %s → %d', (formula, instanceClass, expected) => {
    expect(resolveFormula(formula, instanceClassResources(instanceClass))).toBe(expected);
  });

  it.each([
    ['{DBInstanceClassMemory/0}', 'division by zero'],
    ['{AllocatedStorage/10}', 'unknown name "AllocatedStorage"'],
    ['{DBInstanceClassMemory/12582880', 'expected "}"'],
  ])('refuses %s (%s)', (formula, why) => {
    expect(() => resolveFormula(formula, instanceClassResources('db.r6g.large'))).toThrow(why);
  });

  it('refuses an instance class it has no row for, naming it', () => {
    expect(() => instanceClassResources('db.x2g.large')).toThrow(/instance class "db\.x2g\.large" is not in the table/);
  });
});
