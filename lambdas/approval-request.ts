/** approval-request Lambda (`${Fn_approval_request}` in the compiled machines): stores the approval record with its task token (waitForTaskToken). Wiring only; the logic is lib/runtime/core.ts. */
import { coreHandler } from '../lib/runtime/core-handler';

export const handler = coreHandler('Fn_approval_request');
