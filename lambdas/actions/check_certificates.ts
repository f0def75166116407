/** check_certificates's Lambda (lib/actions/check_certificates.ts) with the targets it declares: certificates. Wiring only. */
import { action } from '../../lib/actions/check_certificates';
import { actionLambda } from '../../lib/runtime/action-lambda';
import { certificatesTarget } from '../../lib/runtime/targets/certificates';

export const handler = actionLambda(action, { certificates: certificatesTarget });
