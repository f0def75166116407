/** escalate Lambda (`${Fn_escalate}` in the compiled machines): approval escalation levels and incident escalation. Wiring only; the logic is lib/runtime/core.ts. */
import { coreHandler } from '../lib/runtime/core-handler';

export const handler = coreHandler('Fn_escalate');
