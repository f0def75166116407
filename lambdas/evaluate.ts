/** evaluate Lambda (`${Fn_evaluate}` in the compiled machines): conditions (Wait → Evaluate → Choice) and recovery checks. Wiring only; the logic is lib/runtime/core/evaluate.ts. */
import { EVALUATE_OPS } from '../lib/runtime/core/evaluate';
import { coreHandler } from '../lib/runtime/core-handler';

export const handler = coreHandler('Fn_evaluate', EVALUATE_OPS);
