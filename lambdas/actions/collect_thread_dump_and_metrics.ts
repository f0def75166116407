/** collect_thread_dump_and_metrics's Lambda (lib/actions/collect_thread_dump_and_metrics.ts) with the targets it declares: kube. Wiring only. */
import { action } from '../../lib/actions/collect_thread_dump_and_metrics';
import { actionLambda } from '../../lib/runtime/action-lambda';
import { kubeTarget } from '../../lib/runtime/targets/kube';

export const handler = actionLambda(action, { kube: kubeTarget });
