/** rolling_restart's Lambda (lib/actions/rolling_restart.ts) with the targets it declares: kube. Wiring only. */
import { action } from '../../lib/actions/rolling_restart';
import { actionLambda } from '../../lib/runtime/action-lambda';
import { kubeTarget } from '../../lib/runtime/targets/kube';

export const handler = actionLambda(action, { kube: kubeTarget });
