/** The `rds` target: the DB instance RDS_INSTANCE_ID's parameter group, through the RDS API (the SDK package loaded at the first call). */
import type { RDSClient } from '@aws-sdk/client-rds';
import { AwsRdsParameters } from '../../actions/rds/aws-parameters';
import { lazyClient } from '../lazy-sdk';
import type { TargetFactory } from './types';

export const rdsTarget: TargetFactory = async ({ env }) => (env.RDS_INSTANCE_ID ? new AwsRdsParameters({ client: lazyClient<RDSClient>(async () => new (await import('@aws-sdk/client-rds')).RDSClient({})), instance: env.RDS_INSTANCE_ID }) : undefined);
