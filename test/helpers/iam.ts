/**
 * The e2e tests run the local engine under the IAM check (lib/local/iam): every handler under its
 * function's role of the synthesized stack. This asserts that no call of the run was denied.
 */
import type { LocalEngine } from '../../lib/local/engine';

/** Fails naming every denied call (function, action, resource) of the engine's run. */
export function expectNoDenials(engine: LocalEngine): void {
  expect(engine.iam).toBeDefined();
  expect(engine.iam?.denials().map((d) => `${d.function}: ${d.action} on ${d.resource}${d.context ? ` ${JSON.stringify(d.context)}` : ''} (${d.via})`)).toEqual([]);
}
