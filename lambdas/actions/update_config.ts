/** update_config's Lambda (lib/actions/update_config.ts) with the targets it declares: config. Wiring only. */
import { action } from '../../lib/actions/update_config';
import { actionLambda } from '../../lib/runtime/action-lambda';
import { configTarget } from '../../lib/runtime/targets/config';

export const handler = actionLambda(action, { config: configTarget });
