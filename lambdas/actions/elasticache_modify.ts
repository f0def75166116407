/** elasticache_modify's Lambda (lib/actions/elasticache_modify.ts) with the targets it declares: elasticache. Wiring only. */
import { action } from '../../lib/actions/elasticache_modify';
import { actionLambda } from '../../lib/runtime/action-lambda';
import { elasticacheTarget } from '../../lib/runtime/targets/elasticache';

export const handler = actionLambda(action, { elasticache: elasticacheTarget });
