/** redis_analysis's Lambda (lib/actions/redis_analysis.ts) with the targets it declares: redis. Wiring only. */
import { action } from '../../lib/actions/redis_analysis';
import { actionLambda } from '../../lib/runtime/action-lambda';
import { redisTarget } from '../../lib/runtime/targets/redis';

export const handler = actionLambda(action, { redis: redisTarget });
