/** patch_hpa_max's Lambda (lib/actions/patch_hpa_max.ts) with the targets it declares: kube. Wiring only. */
import { action } from '../../lib/actions/patch_hpa_max';
import { actionLambda } from '../../lib/runtime/action-lambda';
import { kubeTarget } from '../../lib/runtime/targets/kube';

export const handler = actionLambda(action, { kube: kubeTarget });
