/** An ActionContext for calling an action's `run` directly: templates and expressions resolved as the runtime does, `remember` kept in memory. */
import type { ActionContext, ActionTargets } from '../../lib/actions';
import { resolveForAction } from '../../lib/actions/resolve';
import { type Policy } from '../../lib/policy';
import { defaultPolicy } from '../../lib/policy/files';

export interface TestContextOptions {
  readonly targets?: ActionTargets;
  readonly vars?: Record<string, unknown>;
  readonly policy?: Policy;
  readonly incidentId?: string;
  readonly step?: string;
  readonly service?: string;
  /** The step's time in seconds. @default 600 */
  readonly timeoutSeconds?: number;
  /** Values "recorded by the first attempt" (shared between calls to simulate a retry). */
  readonly memory?: Map<string, unknown>;
  now?(): Date;
}

export function actionContext(options: TestContextOptions = {}): ActionContext & { readonly memory: Map<string, unknown> } {
  const memory = options.memory ?? new Map<string, unknown>();
  return {
    incidentId: options.incidentId ?? 'INC-20260209-001',
    step: options.step ?? 'step',
    ...(options.service ? { service: options.service } : {}),
    targets: options.targets ?? {},
    policy: options.policy ?? defaultPolicy(),
    now: options.now ?? (() => new Date('2026-02-09T14:15:00Z')),
    timeoutSeconds: options.timeoutSeconds ?? 600,
    resolve: (value, locals = {}) => resolveForAction(value, { ...(options.vars ?? {}), ...locals }),
    memory,
    async remember<T>(key: string, compute: () => Promise<T>): Promise<T> {
      if (memory.has(key)) return memory.get(key) as T;
      const value = await compute();
      memory.set(key, value);
      return value;
    },
  };
}
