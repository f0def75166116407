/** send_alert's Lambda (lib/actions/send_alert.ts) with the targets it declares: notify. Wiring only. */
import { action } from '../../lib/actions/send_alert';
import { actionLambda } from '../../lib/runtime/action-lambda';
import { notifyTarget } from '../../lib/runtime/targets/notify';

export const handler = actionLambda(action, { notify: notifyTarget });
