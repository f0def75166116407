/** The `config` target: config keys and feature flags under the Parameter Store prefix CONFIG_PARAMETER_PREFIX. */
import { SSMClient } from '@aws-sdk/client-ssm';
import { SsmConfig } from '../../actions/config/ssm-config';
import type { TargetFactory } from './types';

export const configTarget: TargetFactory = async ({ env }) => (env.CONFIG_PARAMETER_PREFIX ? new SsmConfig({ client: new SSMClient({}), prefix: env.CONFIG_PARAMETER_PREFIX }) : undefined);
