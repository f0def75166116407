/** report Lambda (`${Fn_report}` in the compiled machines): timeline report (MTTD/MTTI/MTTR) and knowledge-base entry. Wiring only; the logic is lib/runtime/core.ts. */
import { coreHandler } from '../lib/runtime/core-handler';

export const handler = coreHandler('Fn_report');
