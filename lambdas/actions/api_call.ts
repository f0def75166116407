/** api_call's Lambda (lib/actions/api_call.ts) with the targets it declares: http. Wiring only. */
import { action } from '../../lib/actions/api_call';
import { actionLambda } from '../../lib/runtime/action-lambda';
import { httpTarget } from '../../lib/runtime/targets/http';

export const handler = actionLambda(action, { http: httpTarget });
