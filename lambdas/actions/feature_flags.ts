/** feature_flags's Lambda (lib/actions/feature_flags.ts) with the targets it declares: config. Wiring only. */
import { action } from '../../lib/actions/feature_flags';
import { actionLambda } from '../../lib/runtime/action-lambda';
import { configTarget } from '../../lib/runtime/targets/config';

export const handler = actionLambda(action, { config: configTarget });
