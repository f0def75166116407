/** kubectl_scale's Lambda (lib/actions/kubectl_scale.ts) with the targets it declares: kube. Wiring only. */
import { action } from '../../lib/actions/kubectl_scale';
import { actionLambda } from '../../lib/runtime/action-lambda';
import { kubeTarget } from '../../lib/runtime/targets/kube';

export const handler = actionLambda(action, { kube: kubeTarget });
