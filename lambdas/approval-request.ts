/** approval-request Lambda (`${Fn_approval_request}` in the compiled machines): stores the approval record with its task token (waitForTaskToken). Wiring only; the logic is lib/runtime/core/approval-request.ts. */
import { APPROVAL_REQUEST_OPS } from '../lib/runtime/core/approval-request';
import { coreHandler } from '../lib/runtime/core-handler';

export const handler = coreHandler('Fn_approval_request', APPROVAL_REQUEST_OPS);
