/** kubectl_patch's Lambda (lib/actions/kubectl_patch.ts) with the targets it declares: kube. Wiring only. */
import { action } from '../../lib/actions/kubectl_patch';
import { actionLambda } from '../../lib/runtime/action-lambda';
import { kubeTarget } from '../../lib/runtime/targets/kube';

export const handler = actionLambda(action, { kube: kubeTarget });
