/**
 * RdsOps over the RDS API: the instance's parameter group (DescribeDBInstances), the parameter's
 * value (DescribeDBParameters, formulas resolved from the instance class), and
 * ModifyDBParameterGroup with ApplyMethod immediate. The SDK package is loaded at the first call
 * (lib/runtime/lazy-sdk.ts).
 */
import type { Parameter, RDSClient } from '@aws-sdk/client-rds';
import { ActionError, TargetNotFoundError, TransientTargetError } from '../errors';
import type { RdsOps, RdsParameterState } from '../ports';
import { instanceClassResources, isFormula, resolveFormula } from './formula';

/** RDS error names worth a retry (throttling, a group another change is still applying). */
const TRANSIENT = new Set(['ThrottlingException', 'Throttling', 'RequestLimitExceeded', 'InvalidDBParameterGroupState', 'ServiceUnavailable', 'InternalFailure']);
const NOT_FOUND = new Set(['DBInstanceNotFound', 'DBInstanceNotFoundFault', 'DBParameterGroupNotFound', 'DBParameterGroupNotFoundFault']);

/** Wraps an RDS SDK error as an action error naming the target. */
export function rdsError(err: unknown, doing: string, target: string): ActionError {
  if (err instanceof ActionError) return err;
  const name = (err as { name?: string }).name ?? 'Error';
  const message = `rds_parameter_change: ${doing} ${target} failed: ${name}: ${(err as Error).message}`;
  if (NOT_FOUND.has(name)) return new TargetNotFoundError(message, { target, cause: err });
  if (TRANSIENT.has(name)) return new TransientTargetError(message, { target, cause: err });
  return new ActionError(message, { target, cause: err });
}

export interface AwsRdsParametersOptions {
  readonly client: Pick<RDSClient, 'send'>;
  /** DBInstanceIdentifier of the database the playbooks work on (RDS_INSTANCE_ID). */
  readonly instance: string;
}

export class AwsRdsParameters implements RdsOps {
  public constructor(private readonly options: AwsRdsParametersOptions) {}

  public async describeParameter(parameter: string): Promise<RdsParameterState> {
    const { client, instance } = this.options;
    const { DescribeDBInstancesCommand } = await import('@aws-sdk/client-rds');
    let db;
    try {
      db = (await client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: instance }))).DBInstances?.[0];
    } catch (err) {
      throw rdsError(err, 'DescribeDBInstances of', instance);
    }
    const group = db?.DBParameterGroups?.[0]?.DBParameterGroupName;
    if (!db || !group) throw new TargetNotFoundError(`rds_parameter_change: DB instance ${instance} has no DB parameter group`, { target: instance });
    const found = await this.findParameter(group, parameter);
    const raw = found?.ParameterValue;
    const instanceClass = db.DBInstanceClass ?? '';
    let value: number | undefined;
    if (raw !== undefined && raw !== '') {
      value = isFormula(raw) ? resolveFormula(raw, instanceClassResources(instanceClass)) : Number(raw);
      if (!Number.isFinite(value)) value = undefined;
    }
    return {
      group,
      value,
      instance,
      instanceClass,
      ...(raw !== undefined ? { raw } : {}),
      applyType: found?.ApplyType === 'static' ? 'static' : 'dynamic',
      modifiable: found?.IsModifiable ?? false,
      defaultGroup: group.startsWith('default.'),
    };
  }

  private async findParameter(group: string, parameter: string): Promise<Parameter | undefined> {
    const { DescribeDBParametersCommand } = await import('@aws-sdk/client-rds');
    let marker: string | undefined;
    do {
      let page;
      try {
        page = await this.options.client.send(new DescribeDBParametersCommand({ DBParameterGroupName: group, Marker: marker, MaxRecords: 100 }));
      } catch (err) {
        throw rdsError(err, 'DescribeDBParameters of', group);
      }
      const hit = page.Parameters?.find((p) => p.ParameterName === parameter);
      if (hit) return hit;
      marker = page.Marker;
    } while (marker);
    return undefined;
  }

  public async modifyParameter(group: string, parameter: string, value: number): Promise<void> {
    const { ModifyDBParameterGroupCommand } = await import('@aws-sdk/client-rds');
    try {
      await this.options.client.send(new ModifyDBParameterGroupCommand({
        DBParameterGroupName: group,
        Parameters: [{ ParameterName: parameter, ParameterValue: String(value), ApplyMethod: 'immediate' }],
      }));
    } catch (err) {
      throw rdsError(err, 'ModifyDBParameterGroup', group);
    }
  }
}
