/** kafka_admin's Lambda (lib/actions/kafka_admin.ts) with the targets it declares: kafka, kube. Wiring only. */
import { action } from '../../lib/actions/kafka_admin';
import { actionLambda } from '../../lib/runtime/action-lambda';
import { kafkaTarget } from '../../lib/runtime/targets/kafka';
import { kubeTarget } from '../../lib/runtime/targets/kube';

export const handler = actionLambda(action, { kafka: kafkaTarget, kube: kubeTarget });
