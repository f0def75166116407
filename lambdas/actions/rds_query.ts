/** rds_query's Lambda (lib/actions/rds_query.ts) with the targets it declares: mysql. Wiring only. */
import { action } from '../../lib/actions/rds_query';
import { actionLambda } from '../../lib/runtime/action-lambda';
import { mysqlTarget } from '../../lib/runtime/targets/mysql';

export const handler = actionLambda(action, { mysql: mysqlTarget });
