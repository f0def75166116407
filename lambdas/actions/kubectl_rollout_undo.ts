/** kubectl_rollout_undo's Lambda (lib/actions/kubectl_rollout_undo.ts) with the targets it declares: kube. Wiring only. */
import { action } from '../../lib/actions/kubectl_rollout_undo';
import { actionLambda } from '../../lib/runtime/action-lambda';
import { kubeTarget } from '../../lib/runtime/targets/kube';

export const handler = actionLambda(action, { kube: kubeTarget });
