/**
 * Counts the DynamoDB calls on a new incident's critical path (alarm event → intake → incident
 * opened → execution started → first action), by a middleware on the engine's DynamoDB client
 * (the document client shares its stack): every call is logged with its operation, when it was
 * sent and when it came back, and the lane it ran in.
 *
 * Lanes (AsyncLocalStorage): the intake runs in `intake`; StartExecution is called in
 * `execution`, so the machine's Tasks (the `Start incident` Lambda, the first action) inherit
 * it. The critical path is then: the intake's calls sent before it called StartExecution, and
 * the execution's calls sent before its first action was invoked. What the intake does after
 * StartExecution (attaching the execution to the incident) runs beside the execution, not in
 * front of it.
 *
 * A round trip is a wave of calls waited for together: a call sent while another of the path is
 * still out shares its round trip; a call sent after all earlier ones came back starts a new one.
 *
 * A count is not a timing: test/integration/round-trips.test.ts asserts it; bench/alarm-storm.ts
 * and bench/cost.ts report it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { LocalEngine } from '../lib/local/engine';
import { executionName, type ExecutionStarter } from '../lib/runtime/executions';
import { handleAlarmEvent, type IntakeDeps, type IntakeResult } from '../lib/runtime/intake';

export type Lane = 'intake' | 'execution' | 'other' | 'uncounted';

export interface DynamoCall {
  /** `PutItem`, `TransactWriteItems`... */
  readonly operation: string;
  readonly lane: Lane;
  /** performance.now() when sent and when answered. */
  readonly sentAt: number;
  answeredAt: number;
  /** Items the call wrote, read or checked (a transaction or a batch counts each). */
  readonly items: number;
  /** Capacity units DynamoDB reported (dynalite reports them when asked: ReturnConsumedCapacity). */
  readUnits: number;
  writeUnits: number;
}

const lanes = new AsyncLocalStorage<Lane>();

/** Runs `work` in a lane: the DynamoDB calls it makes, and those of what it starts, are logged under it. */
export function inLane<T>(lane: Lane, work: () => T): T {
  return lanes.run(lane, work);
}

function itemsOf(operation: string, input: Record<string, unknown>): number {
  if (operation === 'TransactWriteItems' || operation === 'TransactGetItems') return ((input.TransactItems as unknown[]) ?? []).length;
  if (operation === 'BatchWriteItem') return Object.values((input.RequestItems as Record<string, unknown[]>) ?? {}).reduce((n, r) => n + r.length, 0);
  if (operation === 'BatchGetItem') return Object.values((input.RequestItems as Record<string, { Keys?: unknown[] }>) ?? {}).reduce((n, r) => n + (r.Keys?.length ?? 0), 0);
  return 1;
}

interface Capacity {
  readonly CapacityUnits?: number;
  readonly ReadCapacityUnits?: number;
  readonly WriteCapacityUnits?: number;
}

/** Every DynamoDB call of one client, from when it is attached. */
export class DynamoCallLog {
  public readonly calls: DynamoCall[] = [];

  /**
   * Adds the logging middleware to a client's stack (a document client shares its base client's).
   * Asks each call for its consumed capacity (TOTAL), which changes nothing the code reads.
   */
  public static attach(client: DynamoDBDocumentClient | DynamoDBClient): DynamoCallLog {
    const log = new DynamoCallLog();
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const operation = String((context as { commandName?: string }).commandName ?? '').replace(/Command$/, '');
        const input = args.input as Record<string, unknown>;
        if (!('ReturnConsumedCapacity' in input)) input.ReturnConsumedCapacity = 'TOTAL';
        const call: DynamoCall = { operation, lane: lanes.getStore() ?? 'other', sentAt: performance.now(), answeredAt: Number.NaN, items: itemsOf(operation, input), readUnits: 0, writeUnits: 0 };
        log.calls.push(call);
        try {
          const out = await next(args);
          const consumed = (out.output as { ConsumedCapacity?: Capacity | Capacity[] }).ConsumedCapacity;
          for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
            const read = c.ReadCapacityUnits ?? 0;
            const write = c.WriteCapacityUnits ?? 0;
            // dynalite reports only CapacityUnits: a read call's are read units, a write call's write units.
            const total = c.CapacityUnits ?? 0;
            call.readUnits += read || (total && isRead(operation) ? total : 0);
            call.writeUnits += write || (total && !isRead(operation) ? total : 0);
          }
          return out;
        } finally {
          call.answeredAt = performance.now();
        }
      },
      // Before the document client's marshalling (its input is still plain); after nothing that retries.
      { step: 'initialize', name: 'dynamoCallLog', override: true },
    );
    return log;
  }

  /** Forgets what was logged so far. */
  public clear(): void {
    this.calls.length = 0;
  }
}

const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems', 'DescribeTable']);
export function isRead(operation: string): boolean {
  return READS.has(operation);
}

/** Waves of calls: a call sent after every earlier one came back starts a new round trip. */
export function roundTrips(calls: readonly DynamoCall[]): number {
  const sorted = [...calls].sort((a, b) => a.sentAt - b.sentAt);
  let trips = 0;
  let outUntil = Number.NEGATIVE_INFINITY;
  for (const c of sorted) {
    if (c.sentAt >= outUntil) trips += 1;
    outUntil = Math.max(outUntil, c.answeredAt);
  }
  return trips;
}

export interface CriticalPath {
  readonly outcome: IntakeResult['outcome'];
  readonly incidentId?: string;
  /** Calls on the critical path, in the order sent. */
  readonly calls: readonly DynamoCall[];
  readonly roundTrips: number;
  /**
   * The part of `calls` that opens the incident and starts its execution: up to its first Task
   * after Start incident (the investigation's first check), and its round trips.
   */
  readonly opening: { readonly calls: readonly DynamoCall[]; readonly roundTrips: number };
  /** Every call of the alarm until the first action (also those beside the critical path). */
  readonly allCalls: readonly DynamoCall[];
}

/**
 * Sends one alarm event to the engine's intake and returns the DynamoDB calls on its critical
 * path: the intake's up to StartExecution and the execution's up to its first action (when it
 * started one; a repeat or a join starts none, and all its calls are on its path).
 * The engine must be otherwise idle: calls are told apart by lane and time, not by incident.
 */
export async function criticalPathOf(engine: LocalEngine, log: DynamoCallLog, event: unknown, deps: Partial<IntakeDeps> = {}, firstActionTimeoutMs = 10_000): Promise<CriticalPath> {
  log.clear();
  let startedAt = Number.POSITIVE_INFINITY;
  const starter: ExecutionStarter = {
    startExecution: (req) => {
      startedAt = Math.min(startedAt, performance.now());
      return inLane('execution', () => engine.startExecution(req));
    },
  };
  const result = await inLane('intake', () => handleAlarmEvent(event, { ...engine.intakeDeps(), recent: undefined, ...deps, starter }));
  let firstActionAt = Number.POSITIVE_INFINITY;
  let firstWorkAt = Number.POSITIVE_INFINITY;
  if (result.outcome === 'started' && result.incidentId) {
    const exec = engine.executions.get(executionName(result.incidentId));
    const deadline = performance.now() + firstActionTimeoutMs;
    while (exec && exec.firstActionAt === undefined && performance.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    if (exec?.firstActionAt === undefined) throw new Error(`execution of ${result.incidentId} did not reach its first action within ${firstActionTimeoutMs} ms`);
    firstActionAt = exec.firstActionAt;
    firstWorkAt = exec.firstWorkAt ?? firstActionAt;
  }
  const allCalls = log.calls.filter((c) => c.sentAt < firstActionAt || result.outcome !== 'started');
  const calls = allCalls.filter((c) => (c.lane === 'intake' && c.sentAt < startedAt) || (c.lane === 'execution' && c.sentAt < firstActionAt));
  const opening = calls.filter((c) => c.sentAt < firstWorkAt);
  return { outcome: result.outcome, ...(result.incidentId ? { incidentId: result.incidentId } : {}), calls, roundTrips: roundTrips(calls), opening: { calls: opening, roundTrips: roundTrips(opening) }, allCalls };
}

/** `GetItem → UpdateItem → PutItem ‖ PutItem`: the calls by round trip. */
export function describePath(calls: readonly DynamoCall[]): string {
  const sorted = [...calls].sort((a, b) => a.sentAt - b.sentAt);
  const waves: string[][] = [];
  let outUntil = Number.NEGATIVE_INFINITY;
  for (const c of sorted) {
    if (c.sentAt >= outUntil || waves.length === 0) waves.push([]);
    waves[waves.length - 1]!.push(c.operation);
    outUntil = Math.max(outUntil, c.answeredAt);
  }
  return waves.map((w) => w.join(' ‖ ')).join(' → ');
}

export interface AlarmRoundTrips {
  /** The first firing of an alarm for a service in no trouble: opens the incident and starts its execution. */
  readonly newIncident: CriticalPath;
  /** The same alarm firing again a minute later while the incident is open (the storm's case). */
  readonly repeat: CriticalPath;
}

/**
 * One alarm's first firing, then its repeat, on an idle engine: the critical paths of both.
 * `alarmEvent(at)` builds the event (the bench's and the tests' helpers differ).
 */
export async function alarmRoundTrips(engine: LocalEngine, alarmEvent: (at: Date) => unknown): Promise<AlarmRoundTrips> {
  const log = DynamoCallLog.attach(engine.doc);
  const t0 = Date.now() - 120_000;
  const newIncident = await criticalPathOf(engine, log, alarmEvent(new Date(t0)));
  // Let the execution go on to its first Wait: its calls would otherwise mix with the repeat's.
  await idle(log, 300);
  const repeat = await criticalPathOf(engine, log, alarmEvent(new Date(t0 + 60_000)));
  return { newIncident, repeat };
}

/** Resolves once no call is out and none was sent for `quietMs` (at most 10 s). */
export async function idle(log: DynamoCallLog, quietMs: number): Promise<void> {
  const deadline = performance.now() + 10_000;
  for (;;) {
    const last = log.calls.reduce((t, c) => Math.max(t, Number.isNaN(c.answeredAt) ? Number.POSITIVE_INFINITY : c.answeredAt), 0);
    if (performance.now() - last >= quietMs || performance.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}
