/** The `config` target: config keys and feature flags under the Parameter Store prefix CONFIG_PARAMETER_PREFIX (the SDK package loaded at the first call). */
import type { SSMClient } from '@aws-sdk/client-ssm';
import { SsmConfig } from '../../actions/config/ssm-config';
import { lazyClient } from '../lazy-sdk';
import type { TargetFactory } from './types';

export const configTarget: TargetFactory = async ({ env }) => (env.CONFIG_PARAMETER_PREFIX ? new SsmConfig({ client: lazyClient<SSMClient>(async () => new (await import('@aws-sdk/client-ssm')).SSMClient({})), prefix: env.CONFIG_PARAMETER_PREFIX }) : undefined);
