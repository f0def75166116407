/** escalate Lambda (`${Fn_escalate}` in the compiled machines): approval escalation levels and incident escalation. Wiring only; the logic is lib/runtime/core/escalate.ts. */
import { ESCALATE_OPS } from '../lib/runtime/core/escalate';
import { coreHandler } from '../lib/runtime/core-handler';

export const handler = coreHandler('Fn_escalate', ESCALATE_OPS);
