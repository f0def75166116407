/** breaker Lambda (`${Fn_breaker}` in the compiled machines): breaker gate before mutating steps, and failure counting. Wiring only; the logic is lib/runtime/core/breaker.ts. */
import { BREAKER_OPS } from '../lib/runtime/core/breaker';
import { coreHandler } from '../lib/runtime/core-handler';

export const handler = coreHandler('Fn_breaker', BREAKER_OPS);
