/** Dispatch of one core function's operations by the payload's `op`, shared by runCore and each function's handler. */
import { UnknownOperationError } from '../errors';
import type { CoreDeps, CoreOps } from './deps';

/**
 * Runs the operation `payload.op` of core function `fn` (`Fn_report`, ...) among `ops`.
 * @throws UnknownOperationError when `fn` has no such operation
 */
export async function runCoreOp(fn: string, ops: CoreOps, payload: unknown, deps: CoreDeps): Promise<unknown> {
  const op = (payload as { op?: string } | null)?.op;
  if (typeof op !== 'string' || !Object.hasOwn(ops, op)) throw new UnknownOperationError(fn, op);
  return ops[op]!(payload, deps);
}
