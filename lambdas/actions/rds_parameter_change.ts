/** rds_parameter_change's Lambda (lib/actions/rds_parameter_change.ts) with the targets it declares: rds. Wiring only. */
import { action } from '../../lib/actions/rds_parameter_change';
import { actionLambda } from '../../lib/runtime/action-lambda';
import { rdsTarget } from '../../lib/runtime/targets/rds';

export const handler = actionLambda(action, { rds: rdsTarget });
