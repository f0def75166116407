/** The `rds` target: the DB instance RDS_INSTANCE_ID's parameter group, through the RDS API. */
import { RDSClient } from '@aws-sdk/client-rds';
import { AwsRdsParameters } from '../../actions/rds/aws-parameters';
import type { TargetFactory } from './types';

export const rdsTarget: TargetFactory = async ({ env }) => (env.RDS_INSTANCE_ID ? new AwsRdsParameters({ client: new RDSClient({}), instance: env.RDS_INSTANCE_ID }) : undefined);
