/**
 * State transitions, Lambda invocations and DynamoDB requests of one incident per playbook, walked
 * on the local engine (not estimated):
 * every compiled machine runs on dynalite with a logging middleware on the engine's DynamoDB
 * client (bench/round-trips.ts), from the alarm (or the schedule) to its end.
 *
 * - Happy path: every action succeeds, every step condition holds, every approval is approved
 *   at the first ask by distinct people of each listed role (as the approval callback does),
 *   the recovery check sees the service recovered, the incident resolves.
 * - Worst path, the costliest: every step condition holds and every action runs and succeeds, but
 *   no approval is ever answered (each climbs L2 → L3 → L4 and expires) and nothing recovers: the
 *   incident escalates to L4. (A failing action costs less: its step's failure escalates at once
 *   and the steps after it never run.) The walk stops when the execution is handed to people at
 *   L4 (its periodic recovery checks go on while people work; bench/cost.ts adds what each costs).
 *
 * What is simulated, and how: the actions' own work (`run`: the target systems, not DynamoDB;
 * the dispatcher around it, with its guard, approvals, breakers and timeline, runs for real),
 * and the results of the condition and recovery functions, which run for real (their DynamoDB
 * calls count) and whose answers are then set to the path's. The recovery mark `Resolve
 * incident` requires is written outside the count (the real check writes it itself, once).
 * Not counted: the trigger's Powertools idempotency record (two more writes per alarm event in
 * AWS, see bench/cost.ts).
 */
import { performance } from 'node:perf_hooks';
import { ACTIONS } from '../lib/actions';
import { dispatchAction } from '../lib/actions/dispatch';
import { decideApproval, listApprovals } from '../lib/approval';
import { recordRecoveryCheck } from '../lib/incident';
import { functionIdOf, LocalEngine, type LocalExecution } from '../lib/local/engine';
import { handleAlarmEvent } from '../lib/runtime/intake';
import { executionName } from '../lib/runtime/executions';
import { alarmEvent } from '../test/helpers/events';
import { DynamoCallLog, inLane, isRead, type DynamoCall } from './round-trips';

export type WalkPath = 'happy' | 'worst';

/**
 * Waits in the machines run this many times faster: on the happy path a 10-minute approval
 * window lasts 1 s (time to answer it), on the worst path 100 ms (nobody answers).
 */
const SPEED_UP: Record<WalkPath, number> = { happy: 600, worst: 6000 };
const WALK_TIMEOUT_MS = 60_000;

/** The local engine with the actions' work and the checks' answers set to one path. */
class WalkingEngine extends LocalEngine {
  public constructor(private readonly path: WalkPath) {
    super({ speedUp: SPEED_UP[path], notifier: false });
  }

  public override async invoke(key: string, payload: unknown, exec?: LocalExecution): Promise<unknown> {
    const p = (payload ?? {}) as { op?: string; incident?: { id?: string }; incidentId?: string };
    if (key.startsWith('Action_')) {
      const def = ACTIONS[key.slice('Action_'.length)];
      if (!def) throw new Error(`no action ${key}`);
      if (exec && exec.firstActionAt === undefined) exec.firstActionAt = performance.now();
      const run = async () => ({ summary: `${def.name}: simulated success`, outputs: Object.fromEntries(def.outputs.map((o) => [o, 'simulated'])) });
      return this.asFunction(functionIdOf(key), () => dispatchAction({ ...def, run } as typeof def, payload, this.dispatchDeps()));
    }
    const result = (await super.invoke(key, payload, exec)) as Record<string, unknown>;
    const id = p.incident?.id ?? p.incidentId;
    if (key === 'Fn_evaluate' && p.op === 'condition') return { ...result, result: 'true' };
    if ((key === 'Fn_evaluate' && p.op === 'verify') || (key === 'Fn_incident' && p.op === 'check')) {
      if (this.path === 'worst') return { ...result, result: 'false' };
      if (id) await inLane('uncounted', () => recordRecoveryCheck(this.doc, this.tables, id, 'true', new Date()));
      return { ...result, result: 'true' };
    }
    return result;
  }
}

export interface WalkCount {
  /** State transitions as Step Functions bills them: every state entered, Parallel branches' included. */
  readonly transitions: number;
  /** Lambda invocations: every Task entered (approval Tasks invoke the approval-request function), retries included. */
  readonly lambdas: number;
  /** DynamoDB requests (a transaction or a batch is one request). */
  readonly requests: number;
  readonly readRequests: number;
  readonly writeRequests: number;
  /** Capacity units as DynamoDB charges them (on demand: read and write request units). */
  readonly readUnits: number;
  readonly writeUnits: number;
  /** How the execution ended (or `handed to people` when the walk stopped at L4). */
  readonly ended: string;
}

function count(calls: readonly DynamoCall[], exec: LocalExecution, ended: string): WalkCount {
  const counted = calls.filter((c) => c.lane !== 'uncounted');
  const reads = counted.filter((c) => isRead(c.operation));
  return {
    transitions: exec.transitions,
    lambdas: exec.states.length,
    requests: counted.length,
    readRequests: reads.length,
    writeRequests: counted.length - reads.length,
    readUnits: counted.reduce((n, c) => n + c.readUnits, 0),
    writeUnits: counted.reduce((n, c) => n + c.writeUnits, 0),
    ended,
  };
}

/** Approves every pending approval at its first ask: one decision per listed role, each by another person. */
async function approveAll(engine: LocalEngine, seen: Set<string>): Promise<void> {
  // Finding them is the bench's polling, not the incident's cost; deciding them is the callback's.
  for (const rec of await inLane('uncounted', () => listApprovals(engine.doc, engine.tables, 'PENDING'))) {
    if (seen.has(`${rec.approvalId}@${rec.taskToken}`)) continue;
    seen.add(`${rec.approvalId}@${rec.taskToken}`);
    let decided = rec;
    for (const [i, role] of rec.approvers.entries()) decided = await decideApproval(engine.doc, engine.tables, rec.approvalId, { role, person: `approver-${i + 1}`, decision: 'approve' }, new Date());
    try {
      engine.sendTaskSuccess(decided.taskToken, { approvalId: decided.approvalId, status: decided.status });
    } catch {
      // The window ended as it was answered: the next level's token is asked for next time.
      seen.delete(`${rec.approvalId}@${rec.taskToken}`);
    }
  }
}

/** One incident of `playbook` on `path`, walked on a fresh engine. */
export async function walkPlaybook(playbook: string, path: WalkPath): Promise<WalkCount> {
  const engine = await new WalkingEngine(path).start();
  try {
    const log = DynamoCallLog.attach(engine.doc);
    const machine = engine.playbooks.find((m) => m.playbook === playbook);
    if (!machine) throw new Error(`no compiled playbook ${playbook}`);
    let name: string;
    if (machine.trigger.type === 'alarm') {
      const service = machine.trigger.defaultService ?? 'platform';
      const metric = machine.trigger.metrics?.[0]?.metric ?? 'metric';
      const result = await handleAlarmEvent(alarmEvent(`${machine.trigger.alarmNamePrefix}${service}/${metric}`), { ...engine.intakeDeps(), recent: undefined });
      if (result.outcome !== 'started' || !result.incidentId) throw new Error(`${playbook}: the alarm was ${result.outcome}: ${result.reason ?? ''}`);
      name = executionName(result.incidentId);
    } else {
      name = `walk-${playbook}`;
      await engine.startExecution({ playbook, name, input: { context: { trigger: 'schedule', scheduled_at: new Date().toISOString() } } });
    }
    const exec = engine.executions.get(name)!;
    const seen = new Set<string>();
    const deadline = performance.now() + WALK_TIMEOUT_MS;
    let ended: string | undefined;
    void exec.quiet.then(() => (ended = exec.status === 'RUNNING' ? 'handed to people at L4' : exec.status));
    while (ended === undefined) {
      if (performance.now() > deadline) throw new Error(`${playbook} (${path}): not done within ${WALK_TIMEOUT_MS} ms; states so far: ${exec.states.join(' → ')}`);
      if (path === 'happy') await inLane('other', () => approveAll(engine, seen));
      await new Promise((r) => setTimeout(r, 5));
    }
    // What the execution's end records (execution-ended) comes after it.
    await new Promise((r) => setTimeout(r, 200));
    return count(log.calls, exec, ended);
  } finally {
    await engine.stop();
  }
}
