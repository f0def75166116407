/**
 * Circuit breakers of seed §3.2 over DynamoDB: a global breaker (open → diagnose-only mode) and
 * one per service (open → that service's self-healing stops). Every counter moves by an atomic
 * update or a version-conditional write, so concurrent executions cannot race past a limit.
 *
 * Items of the Breakers table (string key `pk`):
 * - `GLOBAL`: state, reason, openedAt, consecutiveFailures (ADD), activeHigh (string set of
 *   incident ids, ADD/DELETE: idempotent), dataCollection (list of ok flags, the sliding window).
 * - `SERVICE#<name>`: state, reason, openedAt, attempts (epoch ms within the window), version.
 *
 * The functions return every state change as a `BreakerChange`; the caller writes it to the
 * incident timeline and notifies the people in `change.notify`.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import * as z from '../yaml/zod';
import { severityAtLeast, type Severity } from '../incident/model';
import { BreakerContentionError, BreakerNotFoundError, InvalidBreakerConfigError } from './errors';

/** Names of the tables the breakers use (in AWS: the DataTables construct's `breakers`). */
export interface BreakerTables {
  /** Breakers table, string key `pk`. */
  readonly breakers: string;
}

export type BreakerState = 'CLOSED' | 'OPEN';

/** What a mutating step may do now. */
export type GateMode = 'auto' | 'diagnose_only' | 'service_stopped';

/** Why a breaker changed state. */
export type BreakerCause =
  | 'active_high_severity'
  | 'consecutive_failures'
  | 'data_collection'
  | 'manual_trip'
  | 'service_attempts'
  | 'manual_reset'
  | 'cool_down'
  | 'recovery';

/** Who must hear of a change (seed §3.2): the notifier maps roles to people (on-call lookup, service owners). */
export type NotifyRole = 'oncall_sre' | 'team_lead' | 'service_owner';

/**
 * A breaker state change, for the caller to record on the timeline and send out:
 * - global: tell the on-call SRE and the team lead at once (seed §3.2: "立即通知 On-call SRE + Team Lead");
 * - service: tell the service owner, and raise the priority of the incident's ticket.
 */
export interface BreakerChange {
  readonly scope: 'global' | 'service';
  /** The service, for a service breaker. */
  readonly service?: string;
  readonly from: BreakerState;
  readonly to: BreakerState;
  readonly cause: BreakerCause;
  readonly reason: string;
  /** ISO time of the change. */
  readonly at: string;
  readonly notify: readonly NotifyRole[];
}

const positiveInt = z.int().check(z.positive());
const nonNegativeInt = z.int().check(z.nonnegative());
/** Breaker thresholds, validated at the edge (cdk.json context, CLI flags). */
export const breakerConfigSchema = z.strictObject({
  /** The global breaker opens when more than this many anomalies of severity HIGH or worse are active. */
  maxActiveHighSeverity: z.optional(nonNegativeInt),
  /** The global breaker opens at this many consecutive remediation failures. */
  maxConsecutiveFailures: z.optional(positiveInt),
  /** The global breaker opens when the data-collection failure rate exceeds this. */
  maxDataCollectionFailureRate: z.optional(z.number().check(z.gte(0), z.lte(1))),
  /** Number of most recent data-collection evaluations the rate is computed over. */
  dataCollectionWindow: z.optional(positiveInt),
  /** Fewer evaluations than this in the window never trip the breaker. */
  dataCollectionMinSamples: z.optional(positiveInt),
  /** A service breaker opens when this many remediation attempts fall within the window without recovery. */
  serviceAttemptLimit: z.optional(positiveInt),
  /** The service attempt window, in seconds. */
  serviceWindowSeconds: z.optional(positiveInt),
  /** An open breaker closes by itself after this long, if its condition no longer holds. */
  coolDownSeconds: z.optional(nonNegativeInt),
});

/** Breaker thresholds; every member is optional. */
export interface BreakerConfig {
  /** Opens when count(active anomalies with severity ≥ HIGH) > this. @default 5 */
  readonly maxActiveHighSeverity?: number;
  /** Opens when consecutive remediation failures ≥ this. @default 3 */
  readonly maxConsecutiveFailures?: number;
  /** Opens when the data-collection failure rate > this. @default 0.5 */
  readonly maxDataCollectionFailureRate?: number;
  /** Sliding window of the data-collection rate, in evaluations. @default 20 */
  readonly dataCollectionWindow?: number;
  /** Minimum evaluations in the window before the rate counts. @default 4 */
  readonly dataCollectionMinSamples?: number;
  /** Service breaker: attempts within the window without recovery. @default 3 */
  readonly serviceAttemptLimit?: number;
  /** Service breaker window. @default 3600 (1 h, seed §3.2) */
  readonly serviceWindowSeconds?: number;
  /** Automatic reset of an open breaker whose condition has cleared. @default 1800 */
  readonly coolDownSeconds?: number;
}

export const DEFAULT_BREAKER_CONFIG: Required<BreakerConfig> = {
  maxActiveHighSeverity: 5,
  maxConsecutiveFailures: 3,
  maxDataCollectionFailureRate: 0.5,
  dataCollectionWindow: 20,
  dataCollectionMinSamples: 4,
  serviceAttemptLimit: 3,
  serviceWindowSeconds: 3600,
  coolDownSeconds: 1800,
};

/**
 * Validates breaker settings from outside (cdk.json context, a file, flags) and fills defaults.
 * @throws InvalidBreakerConfigError
 */
export function parseBreakerConfig(input: unknown): Required<BreakerConfig> {
  const parsed = breakerConfigSchema.safeParse(input ?? {});
  if (!parsed.success) {
    throw new InvalidBreakerConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
  }
  return withDefaults(parsed.data);
}

function withDefaults(config: BreakerConfig): Required<BreakerConfig> {
  const out: Record<string, number> = { ...DEFAULT_BREAKER_CONFIG };
  for (const [k, v] of Object.entries(config)) if (v !== undefined) out[k] = v as number;
  return out as unknown as Required<BreakerConfig>;
}

const GLOBAL_PK = 'GLOBAL';
const servicePk = (service: string) => `SERVICE#${service}`;
const NOTIFY_GLOBAL: readonly NotifyRole[] = ['oncall_sre', 'team_lead'];
const NOTIFY_SERVICE: readonly NotifyRole[] = ['service_owner'];
/** Retry budget of the version-conditional loop; each lap means another writer got there first. */
const MAX_ATTEMPTS = 100;

interface GlobalItem {
  readonly pk: string;
  readonly state?: BreakerState;
  readonly reason?: string;
  readonly cause?: BreakerCause;
  readonly openedAt?: string;
  readonly consecutiveFailures?: number;
  readonly lastFailedService?: string;
  readonly activeHigh?: Set<string>;
  readonly dataCollection?: boolean[];
}

interface ServiceItem {
  readonly pk: string;
  readonly service: string;
  readonly state?: BreakerState;
  readonly reason?: string;
  readonly cause?: BreakerCause;
  readonly openedAt?: string;
  /** Epoch milliseconds of attempts; may hold some older than the window until the next write. */
  readonly attempts?: number[];
  readonly version?: number;
}

function isConditionFailure(err: unknown): boolean {
  return err instanceof ConditionalCheckFailedException || (err instanceof Error && err.name === 'ConditionalCheckFailedException');
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function readGlobalItem(doc: DynamoDBDocumentClient, tables: BreakerTables): Promise<GlobalItem> {
  const out = await doc.send(new GetCommand({ TableName: tables.breakers, Key: { pk: GLOBAL_PK }, ConsistentRead: true }));
  return (out.Item as GlobalItem | undefined) ?? { pk: GLOBAL_PK };
}

async function readServiceItem(doc: DynamoDBDocumentClient, tables: BreakerTables, service: string): Promise<ServiceItem> {
  const out = await doc.send(new GetCommand({ TableName: tables.breakers, Key: { pk: servicePk(service) }, ConsistentRead: true }));
  return (out.Item as ServiceItem | undefined) ?? { pk: servicePk(service), service };
}

/** Failures, samples and rate over the last `window` data-collection evaluations. */
function collectionStats(flags: readonly boolean[] | undefined, c: Required<BreakerConfig>): { samples: number; failures: number; failureRate?: number } {
  const window = (flags ?? []).slice(-c.dataCollectionWindow);
  const failures = window.filter((ok) => !ok).length;
  return { samples: window.length, failures, failureRate: window.length === 0 ? undefined : failures / window.length };
}

function attemptsInWindow(item: ServiceItem, c: Required<BreakerConfig>, now: Date): number[] {
  const cutoff = now.getTime() - c.serviceWindowSeconds * 1000;
  return (item.attempts ?? []).filter((t) => t > cutoff).sort((a, b) => a - b);
}

/** The global trip conditions that hold on a stored state, first one wins; undefined when none. */
function globalTripCondition(item: GlobalItem, c: Required<BreakerConfig>): { cause: BreakerCause; reason: string } | undefined {
  const active = item.activeHigh?.size ?? 0;
  if (active > c.maxActiveHighSeverity) {
    return { cause: 'active_high_severity', reason: `${active} active anomalies with severity ≥ HIGH (> ${c.maxActiveHighSeverity}): likely an infrastructure problem` };
  }
  const failures = item.consecutiveFailures ?? 0;
  if (failures >= c.maxConsecutiveFailures) {
    const last = item.lastFailedService ? ` (last on ${item.lastFailedService})` : '';
    return { cause: 'consecutive_failures', reason: `${failures} consecutive remediation failures (≥ ${c.maxConsecutiveFailures})${last}` };
  }
  const dc = collectionStats(item.dataCollection, c);
  if (dc.failureRate !== undefined && dc.samples >= c.dataCollectionMinSamples && dc.failureRate > c.maxDataCollectionFailureRate) {
    return {
      cause: 'data_collection',
      reason: `data collection failing: ${dc.failures} of the last ${dc.samples} evaluations (rate ${dc.failureRate.toFixed(2)} > ${c.maxDataCollectionFailureRate}): the agent may misjudge`,
    };
  }
  return undefined;
}

function serviceTripReason(service: string, attempts: number, c: Required<BreakerConfig>): string {
  return `${attempts} remediation attempts on ${service} within ${c.serviceWindowSeconds} s without recovery (limit ${c.serviceAttemptLimit})`;
}

export interface TripInput {
  readonly reason: string;
  /** @default 'manual_trip' */
  readonly cause?: BreakerCause;
}

/**
 * Opens the global breaker (diagnose-only mode). Conditional on it being closed, so of several
 * concurrent trips exactly one returns the change.
 *
 * @example
 * const changes = await tripGlobalBreaker(doc, tables, config, new Date(), { reason: 'war room: freeze all changes' });
 */
export async function tripGlobalBreaker(
  doc: DynamoDBDocumentClient,
  tables: BreakerTables,
  _config: BreakerConfig,
  now: Date,
  input: TripInput,
): Promise<BreakerChange[]> {
  const at = now.toISOString();
  const cause = input.cause ?? 'manual_trip';
  try {
    await doc.send(
      new UpdateCommand({
        TableName: tables.breakers,
        Key: { pk: GLOBAL_PK },
        UpdateExpression: 'SET #state = :open, reason = :reason, #cause = :cause, openedAt = :at',
        ConditionExpression: 'attribute_not_exists(#state) OR #state = :closed',
        ExpressionAttributeNames: { '#state': 'state', '#cause': 'cause' },
        ExpressionAttributeValues: { ':open': 'OPEN', ':closed': 'CLOSED', ':reason': input.reason, ':cause': cause, ':at': at },
      }),
    );
  } catch (err) {
    if (isConditionFailure(err)) return [];
    throw err;
  }
  return [{ scope: 'global', from: 'CLOSED', to: 'OPEN', cause, reason: input.reason, at, notify: NOTIFY_GLOBAL }];
}

/**
 * Opens a service breaker (that service's self-healing stops). Conditional on it being closed.
 *
 * @example
 * await tripServiceBreaker(doc, tables, config, new Date(), { service: 'trading-api', reason: 'owner asked to stop' });
 */
export async function tripServiceBreaker(
  doc: DynamoDBDocumentClient,
  tables: BreakerTables,
  _config: BreakerConfig,
  now: Date,
  input: TripInput & { readonly service: string },
): Promise<BreakerChange[]> {
  const at = now.toISOString();
  const cause = input.cause ?? 'manual_trip';
  try {
    await doc.send(
      new UpdateCommand({
        TableName: tables.breakers,
        Key: { pk: servicePk(input.service) },
        // version moves too, so that a concurrent attempt re-reads and sees the breaker open.
        UpdateExpression: 'SET #state = :open, reason = :reason, #cause = :cause, openedAt = :at, service = :service ADD version :one',
        ConditionExpression: 'attribute_not_exists(#state) OR #state = :closed',
        ExpressionAttributeNames: { '#state': 'state', '#cause': 'cause' },
        ExpressionAttributeValues: {
          ':open': 'OPEN',
          ':closed': 'CLOSED',
          ':reason': input.reason,
          ':cause': cause,
          ':at': at,
          ':service': input.service,
          ':one': 1,
        },
      }),
    );
  } catch (err) {
    if (isConditionFailure(err)) return [];
    throw err;
  }
  return [{ scope: 'service', service: input.service, from: 'CLOSED', to: 'OPEN', cause, reason: input.reason, at, notify: NOTIFY_SERVICE }];
}

/** Trips the global breaker if one of its conditions holds on `item`. */
async function tripGlobalIfDue(doc: DynamoDBDocumentClient, tables: BreakerTables, c: Required<BreakerConfig>, now: Date, item: GlobalItem): Promise<BreakerChange[]> {
  if (item.state === 'OPEN') return [];
  const due = globalTripCondition(item, c);
  return due ? tripGlobalBreaker(doc, tables, c, now, due) : [];
}

export interface RemediationResultInput {
  readonly service: string;
  /** Whether the remediation action succeeded. */
  readonly ok: boolean;
}

/**
 * Records the outcome of a remediation action. A success resets the consecutive-failure count;
 * a failure increments it atomically and trips the global breaker at `maxConsecutiveFailures`.
 */
export async function recordRemediationResult(
  doc: DynamoDBDocumentClient,
  tables: BreakerTables,
  config: BreakerConfig,
  now: Date,
  input: RemediationResultInput,
): Promise<{ consecutiveFailures: number; changes: BreakerChange[] }> {
  const c = withDefaults(config);
  const out = await doc.send(
    new UpdateCommand({
      TableName: tables.breakers,
      Key: { pk: GLOBAL_PK },
      UpdateExpression: input.ok ? 'SET consecutiveFailures = :zero' : 'SET lastFailedService = :service ADD consecutiveFailures :one',
      ExpressionAttributeValues: input.ok ? { ':zero': 0 } : { ':one': 1, ':service': input.service },
      ReturnValues: 'ALL_NEW',
    }),
  );
  const item = out.Attributes as GlobalItem;
  const consecutiveFailures = item.consecutiveFailures ?? 0;
  if (input.ok || consecutiveFailures < c.maxConsecutiveFailures) return { consecutiveFailures, changes: [] };
  return { consecutiveFailures, changes: await tripGlobalIfDue(doc, tables, c, now, item) };
}

/**
 * Records one data-collection evaluation (metrics read, logs fetched...) into the sliding window
 * and trips the global breaker when the failure rate over the window exceeds the limit (given
 * at least `dataCollectionMinSamples` evaluations).
 */
export async function recordDataCollection(
  doc: DynamoDBDocumentClient,
  tables: BreakerTables,
  config: BreakerConfig,
  now: Date,
  input: { readonly ok: boolean },
): Promise<{ samples: number; failures: number; failureRate?: number; changes: BreakerChange[] }> {
  const c = withDefaults(config);
  const out = await doc.send(
    new UpdateCommand({
      TableName: tables.breakers,
      Key: { pk: GLOBAL_PK },
      UpdateExpression: 'SET dataCollection = list_append(if_not_exists(dataCollection, :empty), :flag)',
      ExpressionAttributeValues: { ':empty': [], ':flag': [input.ok] },
      ReturnValues: 'ALL_NEW',
    }),
  );
  const item = out.Attributes as GlobalItem;
  const length = item.dataCollection?.length ?? 0;
  const excess = length - c.dataCollectionWindow;
  if (excess > 0) {
    // Drop the oldest flags, only if nobody trimmed meanwhile: the list never gets shorter than the window.
    try {
      await doc.send(
        new UpdateCommand({
          TableName: tables.breakers,
          Key: { pk: GLOBAL_PK },
          UpdateExpression: `REMOVE ${Array.from({ length: excess }, (_, i) => `dataCollection[${i}]`).join(', ')}`,
          ConditionExpression: 'size(dataCollection) >= :length',
          ExpressionAttributeValues: { ':length': length },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }
  const stats = collectionStats(item.dataCollection, c);
  const changes = input.ok ? [] : await tripGlobalIfDue(doc, tables, c, now, item);
  return { ...stats, changes };
}

export interface ActiveAnomalyInput {
  /** The incident the anomaly belongs to: recording it twice counts it once. */
  readonly incidentId: string;
  readonly severity: Severity;
}

/**
 * Counts an active anomaly toward the global breaker when its severity is HIGH or worse (a set
 * of incident ids: idempotent under retries), and trips the breaker when more than
 * `maxActiveHighSeverity` are active. A lower severity removes the incident from the count
 * (its severity went down).
 */
export async function recordActiveAnomaly(
  doc: DynamoDBDocumentClient,
  tables: BreakerTables,
  config: BreakerConfig,
  now: Date,
  input: ActiveAnomalyInput,
): Promise<{ activeHighSeverity: number; changes: BreakerChange[] }> {
  const c = withDefaults(config);
  const high = severityAtLeast(input.severity, 'HIGH');
  const out = await doc.send(
    new UpdateCommand({
      TableName: tables.breakers,
      Key: { pk: GLOBAL_PK },
      UpdateExpression: high ? 'ADD activeHigh :ids' : 'DELETE activeHigh :ids',
      ExpressionAttributeValues: { ':ids': new Set([input.incidentId]) },
      ReturnValues: 'ALL_NEW',
    }),
  );
  const item = (out.Attributes as GlobalItem | undefined) ?? { pk: GLOBAL_PK };
  const activeHighSeverity = item.activeHigh?.size ?? 0;
  const changes = high && activeHighSeverity > c.maxActiveHighSeverity ? await tripGlobalIfDue(doc, tables, c, now, item) : [];
  return { activeHighSeverity, changes };
}

/**
 * The write that counts an incident's anomaly as active (severity HIGH or worse), for a caller's
 * transaction: the incident store opens an incident and counts it in one call. Idempotent (a set
 * of incident ids). It cannot say whether the count now trips the global breaker: call
 * `recordActiveAnomaly` afterwards (it adds nothing twice and trips when due), and the gate
 * re-evaluates the stored count before every mutating step in any case.
 */
export function activeAnomalyWrite(tables: BreakerTables, incidentId: string): NonNullable<TransactWriteCommandInput['TransactItems']>[number] {
  return { Update: { TableName: tables.breakers, Key: { pk: GLOBAL_PK }, UpdateExpression: 'ADD activeHigh :ids', ExpressionAttributeValues: { ':ids': new Set([incidentId]) } } };
}

/** Removes an incident's anomaly from the active count (incident resolved, failed or downgraded). Idempotent. */
export async function clearActiveAnomaly(
  doc: DynamoDBDocumentClient,
  tables: BreakerTables,
  _config: BreakerConfig,
  _now: Date,
  input: { readonly incidentId: string },
): Promise<{ activeHighSeverity: number; changes: BreakerChange[] }> {
  const out = await doc.send(
    new UpdateCommand({
      TableName: tables.breakers,
      Key: { pk: GLOBAL_PK },
      UpdateExpression: 'DELETE activeHigh :ids',
      ExpressionAttributeValues: { ':ids': new Set([input.incidentId]) },
      ReturnValues: 'ALL_NEW',
    }),
  );
  const item = out.Attributes as GlobalItem | undefined;
  return { activeHighSeverity: item?.activeHigh?.size ?? 0, changes: [] };
}

export interface RemediationAttemptResult {
  /** True when this attempt was counted and may run. */
  readonly allowed: boolean;
  /** Attempts within the window after this call. */
  readonly attemptsInWindow: number;
  /** Why not, when refused. */
  readonly reason?: string;
  readonly changes: BreakerChange[];
}

/**
 * Asks for, and records, one remediation attempt on a service. Allowed only while the service
 * breaker is closed and fewer than `serviceAttemptLimit` attempts fall within the window; the
 * attempt list is written with a version condition, so N parallel callers get exactly
 * `limit − used` allowances. The first refusal opens the service breaker (seed §3.2: attempts
 * ≥ limit within 1 h and not recovered; a recovery in between would have cleared the count).
 *
 * @throws BreakerContentionError when the retry budget runs out (treat as refused)
 */
export async function recordRemediationAttempt(
  doc: DynamoDBDocumentClient,
  tables: BreakerTables,
  config: BreakerConfig,
  now: Date,
  service: string,
): Promise<RemediationAttemptResult> {
  const c = withDefaults(config);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const item = await readServiceItem(doc, tables, service);
    const inWindow = attemptsInWindow(item, c, now);
    if (item.state === 'OPEN') {
      return { allowed: false, attemptsInWindow: inWindow.length, reason: `service breaker for ${service} is open: ${item.reason ?? 'no reason recorded'}`, changes: [] };
    }
    if (inWindow.length >= c.serviceAttemptLimit) {
      const reason = serviceTripReason(service, inWindow.length, c);
      const changes = await tripServiceBreaker(doc, tables, c, now, { service, reason, cause: 'service_attempts' });
      return { allowed: false, attemptsInWindow: inWindow.length, reason, changes };
    }
    const attempts = [...inWindow, now.getTime()];
    try {
      await doc.send(
        new UpdateCommand({
          TableName: tables.breakers,
          Key: { pk: servicePk(service) },
          UpdateExpression: 'SET attempts = :attempts, version = :next, service = :service',
          ConditionExpression: item.version === undefined ? 'attribute_not_exists(version)' : 'version = :version',
          ExpressionAttributeValues: {
            ':attempts': attempts,
            ':next': (item.version ?? 0) + 1,
            ':service': service,
            ...(item.version === undefined ? {} : { ':version': item.version }),
          },
        }),
      );
      return { allowed: true, attemptsInWindow: attempts.length, changes: [] };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      await pause(Math.random() * 5 * Math.min(attempt + 1, 10));
    }
  }
  throw new BreakerContentionError(servicePk(service), MAX_ATTEMPTS);
}

/**
 * Records that a service recovered (verified after remediation): clears its attempt count and
 * closes its breaker if open.
 */
export async function recordRecovery(
  doc: DynamoDBDocumentClient,
  tables: BreakerTables,
  _config: BreakerConfig,
  now: Date,
  service: string,
): Promise<BreakerChange[]> {
  const at = now.toISOString();
  const reason = `${service} recovered`;
  const out = await doc.send(
    new UpdateCommand({
      TableName: tables.breakers,
      Key: { pk: servicePk(service) },
      UpdateExpression: 'SET attempts = :none, #state = :closed, reason = :reason, #cause = :cause, service = :service REMOVE openedAt ADD version :one',
      ExpressionAttributeNames: { '#state': 'state', '#cause': 'cause' },
      ExpressionAttributeValues: { ':none': [], ':closed': 'CLOSED', ':reason': reason, ':cause': 'recovery', ':service': service, ':one': 1 },
      ReturnValues: 'ALL_OLD',
    }),
  );
  const old = out.Attributes as ServiceItem | undefined;
  if (old?.state !== 'OPEN') return [];
  return [{ scope: 'service', service, from: 'OPEN', to: 'CLOSED', cause: 'recovery', reason, at, notify: NOTIFY_SERVICE }];
}

export interface ResetInput {
  /** The service breaker to reset; omit for the global breaker. */
  readonly service?: string;
  /** Who reset it (`cli:<user>`), for the reason text. */
  readonly actor?: string;
}

/**
 * Closes a breaker by hand (CLI). The global reset also clears the consecutive-failure count and
 * the data-collection window; the active-anomaly count is a live fact and stays, so `gate` opens
 * the breaker again while more than `maxActiveHighSeverity` anomalies are active. A service reset
 * clears its attempts. Conditional on the breaker being open: no change when it was closed.
 * @throws BreakerNotFoundError when the service has no breaker (a misspelt name is not a no-op)
 */
export async function resetBreaker(
  doc: DynamoDBDocumentClient,
  tables: BreakerTables,
  _config: BreakerConfig,
  now: Date,
  input: ResetInput = {},
): Promise<BreakerChange[]> {
  const at = now.toISOString();
  const reason = `reset by ${input.actor ?? 'hand'}`;
  const service = input.service;
  const global = service === undefined;
  try {
    await doc.send(
      new UpdateCommand({
        TableName: tables.breakers,
        Key: { pk: global ? GLOBAL_PK : servicePk(service) },
        UpdateExpression: global
          ? 'SET #state = :closed, reason = :reason, #cause = :cause, consecutiveFailures = :zero REMOVE openedAt, dataCollection'
          : 'SET #state = :closed, reason = :reason, #cause = :cause, attempts = :none REMOVE openedAt ADD version :one',
        ConditionExpression: '#state = :open',
        ExpressionAttributeNames: { '#state': 'state', '#cause': 'cause' },
        ExpressionAttributeValues: global
          ? { ':closed': 'CLOSED', ':open': 'OPEN', ':reason': reason, ':cause': 'manual_reset', ':zero': 0 }
          : { ':closed': 'CLOSED', ':open': 'OPEN', ':reason': reason, ':cause': 'manual_reset', ':none': [], ':one': 1 },
      }),
    );
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
    // Closed already, or no breaker at all: only the first is "nothing to do".
    if (!global && !(await doc.send(new GetCommand({ TableName: tables.breakers, Key: { pk: servicePk(service) }, ConsistentRead: true }))).Item) {
      const all = await doc.send(new ScanCommand({ TableName: tables.breakers, ProjectionExpression: 'pk', Limit: 200 }));
      const known = (all.Items ?? []).map((i) => String(i.pk)).filter((pk) => pk.startsWith('SERVICE#')).map((pk) => pk.slice('SERVICE#'.length)).sort();
      throw new BreakerNotFoundError(service, known);
    }
    return [];
  }
  return global
    ? [{ scope: 'global', from: 'OPEN', to: 'CLOSED', cause: 'manual_reset', reason, at, notify: NOTIFY_GLOBAL }]
    : [{ scope: 'service', service, from: 'OPEN', to: 'CLOSED', cause: 'manual_reset', reason, at, notify: NOTIFY_SERVICE }];
}

/** Closes an open breaker after its cool-down, only if nobody else reset or re-tripped it since we read it. */
async function closeAfterCoolDown(
  doc: DynamoDBDocumentClient,
  tables: BreakerTables,
  pk: string,
  openedAt: string,
  reason: string,
  global: boolean,
): Promise<boolean> {
  try {
    await doc.send(
      new UpdateCommand({
        TableName: tables.breakers,
        Key: { pk },
        // No remediation ran while open, so the failure count says nothing new: start from zero.
        UpdateExpression: global
          ? 'SET #state = :closed, reason = :reason, #cause = :cause, consecutiveFailures = :zero REMOVE openedAt'
          : 'SET #state = :closed, reason = :reason, #cause = :cause REMOVE openedAt ADD version :one',
        ConditionExpression: '#state = :open AND openedAt = :openedAt',
        ExpressionAttributeNames: { '#state': 'state', '#cause': 'cause' },
        ExpressionAttributeValues: {
          ':closed': 'CLOSED',
          ':open': 'OPEN',
          ':reason': reason,
          ':cause': 'cool_down',
          ':openedAt': openedAt,
          ...(global ? { ':zero': 0 } : { ':one': 1 }),
        },
      }),
    );
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}

export interface GateInput {
  /** The service the step acts on; omit to consult the global breaker only. */
  readonly service?: string;
}

export interface GateDecision {
  readonly mode: GateMode;
  readonly reason: string;
  /** Changes made while deciding (a cool-down reset, or a trip whose condition was found holding). */
  readonly changes: BreakerChange[];
}

/**
 * What a mutating step may do now: `auto`, `diagnose_only` (global breaker open: read-only steps
 * only) or `service_stopped` (the service's breaker is open). Re-evaluates the stored conditions,
 * so a trip lost to a crash between a counter update and the trip write happens here. An open
 * breaker past `coolDownSeconds` whose condition no longer holds is closed by a conditional
 * write (two concurrent gates do not both reset it). A breaker tripped by hand
 * (`cause: 'manual_trip'`) waits for `resetBreaker`. A service breaker also stays open while
 * `serviceAttemptLimit` attempts remain within the window, so the seed's "3 per hour" holds.
 *
 * @example
 * const { mode, reason, changes } = await gate(doc, tables, config, new Date(), { service: 'trading-api' });
 * if (mode !== 'auto') skipStep(reason);
 */
export async function gate(
  doc: DynamoDBDocumentClient,
  tables: BreakerTables,
  config: BreakerConfig,
  now: Date,
  input: GateInput = {},
): Promise<GateDecision> {
  const c = withDefaults(config);
  const changes: BreakerChange[] = [];
  const at = now.toISOString();

  let global = await readGlobalItem(doc, tables);
  for (let lap = 0; lap < 3; lap += 1) {
    if (global.state === 'OPEN') {
      const openedAt = global.openedAt ?? at;
      const cooled = now.getTime() - Date.parse(openedAt) >= c.coolDownSeconds * 1000;
      const holding = globalTripCondition({ ...global, consecutiveFailures: 0 }, c);
      // A hand-made trip (war room, change freeze) stays until reset by hand.
      if (!cooled || holding || global.cause === 'manual_trip') {
        return { mode: 'diagnose_only', reason: `global breaker open since ${openedAt}: ${holding?.reason ?? global.reason ?? 'no reason recorded'}`, changes };
      }
      const reason = `cool-down of ${c.coolDownSeconds} s elapsed and no trip condition holds`;
      if (await closeAfterCoolDown(doc, tables, GLOBAL_PK, openedAt, reason, true)) {
        changes.push({ scope: 'global', from: 'OPEN', to: 'CLOSED', cause: 'cool_down', reason, at, notify: NOTIFY_GLOBAL });
      }
      global = await readGlobalItem(doc, tables);
      continue;
    }
    const due = globalTripCondition(global, c);
    if (!due) break;
    changes.push(...(await tripGlobalBreaker(doc, tables, c, now, due)));
    global = await readGlobalItem(doc, tables);
  }
  if (global.state === 'OPEN') {
    return { mode: 'diagnose_only', reason: `global breaker open since ${global.openedAt ?? at}: ${global.reason ?? 'no reason recorded'}`, changes };
  }

  if (input.service !== undefined) {
    const service = input.service;
    const pk = servicePk(service);
    let item = await readServiceItem(doc, tables, service);
    let inWindow = attemptsInWindow(item, c, now);
    if (item.state === 'OPEN') {
      const openedAt = item.openedAt ?? at;
      const cooled = now.getTime() - Date.parse(openedAt) >= c.coolDownSeconds * 1000;
      if (cooled && inWindow.length < c.serviceAttemptLimit && item.cause !== 'manual_trip') {
        const reason = `cool-down of ${c.coolDownSeconds} s elapsed and fewer than ${c.serviceAttemptLimit} attempts remain within the window`;
        if (await closeAfterCoolDown(doc, tables, pk, openedAt, reason, false)) {
          changes.push({ scope: 'service', service, from: 'OPEN', to: 'CLOSED', cause: 'cool_down', reason, at, notify: NOTIFY_SERVICE });
        }
        item = await readServiceItem(doc, tables, service);
        inWindow = attemptsInWindow(item, c, now);
      }
    } else if (inWindow.length >= c.serviceAttemptLimit) {
      changes.push(...(await tripServiceBreaker(doc, tables, c, now, { service, reason: serviceTripReason(service, inWindow.length, c), cause: 'service_attempts' })));
      item = await readServiceItem(doc, tables, service);
    }
    if (item.state === 'OPEN') {
      const oldest = inWindow[0];
      const until =
        inWindow.length >= c.serviceAttemptLimit && oldest !== undefined
          ? `; closes after ${new Date(Math.max(Date.parse(item.openedAt ?? at) + c.coolDownSeconds * 1000, oldest + c.serviceWindowSeconds * 1000)).toISOString()} unless reset or recovered`
          : '';
      return { mode: 'service_stopped', reason: `service breaker for ${service} open since ${item.openedAt ?? at}: ${item.reason ?? 'no reason recorded'}${until}`, changes };
    }
  }
  return { mode: 'auto', reason: input.service === undefined ? 'global breaker closed' : `global and ${input.service} breakers closed`, changes };
}

/** A breaker's state, for the dashboard and the CLI. */
export interface BreakerStatus {
  readonly scope: 'global' | 'service';
  readonly service?: string;
  readonly state: BreakerState;
  readonly reason?: string;
  readonly cause?: BreakerCause;
  readonly openedAt?: string;
  /** Global: consecutive remediation failures. */
  readonly consecutiveFailures?: number;
  /** Global: incident ids of active anomalies with severity ≥ HIGH. */
  readonly activeHighSeverity?: readonly string[];
  /** Global: the data-collection window. */
  readonly dataCollection?: { readonly samples: number; readonly failures: number; readonly failureRate?: number };
  /** Service: ISO times of the attempts within the window. */
  readonly attempts?: readonly string[];
}

function globalStatus(item: GlobalItem, c: Required<BreakerConfig>): BreakerStatus {
  return {
    scope: 'global',
    state: item.state ?? 'CLOSED',
    ...(item.reason !== undefined ? { reason: item.reason } : {}),
    ...(item.cause !== undefined ? { cause: item.cause } : {}),
    ...(item.openedAt !== undefined ? { openedAt: item.openedAt } : {}),
    consecutiveFailures: item.consecutiveFailures ?? 0,
    activeHighSeverity: [...(item.activeHigh ?? [])].sort(),
    dataCollection: collectionStats(item.dataCollection, c),
  };
}

function serviceStatus(item: ServiceItem, c: Required<BreakerConfig>, now: Date): BreakerStatus {
  return {
    scope: 'service',
    service: item.service ?? item.pk.slice('SERVICE#'.length),
    state: item.state ?? 'CLOSED',
    ...(item.reason !== undefined ? { reason: item.reason } : {}),
    ...(item.cause !== undefined ? { cause: item.cause } : {}),
    ...(item.openedAt !== undefined ? { openedAt: item.openedAt } : {}),
    attempts: attemptsInWindow(item, c, now).map((t) => new Date(t).toISOString()),
  };
}

/** The global breaker's stored state (read only: no cool-down reset, see `gate`). */
export async function getGlobalBreaker(doc: DynamoDBDocumentClient, tables: BreakerTables, config: BreakerConfig): Promise<BreakerStatus> {
  return globalStatus(await readGlobalItem(doc, tables), withDefaults(config));
}

/** A service breaker's stored state (read only). */
export async function getServiceBreaker(doc: DynamoDBDocumentClient, tables: BreakerTables, config: BreakerConfig, now: Date, service: string): Promise<BreakerStatus> {
  return serviceStatus(await readServiceItem(doc, tables, service), withDefaults(config), now);
}

/** Every breaker, global first then services by name (a Scan: the table holds one item per service). */
export async function listBreakers(doc: DynamoDBDocumentClient, tables: BreakerTables, config: BreakerConfig, now: Date): Promise<BreakerStatus[]> {
  const c = withDefaults(config);
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(new ScanCommand({ TableName: tables.breakers, ConsistentRead: true, ExclusiveStartKey: startKey }));
    items.push(...(out.Items ?? []));
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  const global = items.find((i) => i.pk === GLOBAL_PK) as GlobalItem | undefined;
  const services = items
    .filter((i) => typeof i.pk === 'string' && i.pk.startsWith('SERVICE#'))
    .map((i) => serviceStatus(i as unknown as ServiceItem, c, now))
    .sort((a, b) => (a.service ?? '').localeCompare(b.service ?? ''));
  return [globalStatus(global ?? { pk: GLOBAL_PK }, c), ...services];
}
