/**
 * The payload contract between the compiler (lib/playbook) and the runtime (lib/runtime,
 * lib/actions): what each Task of a compiled machine sends to its Lambda (`Parameters.Payload`),
 * defined once. The runtime parses with these schemas; the compiler builds the payloads through
 * `corePayload` / `actionPayload`, typed from the same schemas, so a field the runtime does not
 * know, a missing one or one of the wrong type is a compile error. A field may be given as its
 * value or, under `<field>.$`, as a JSONPath the state machine resolves (`'incident.$': '$.incident'`).
 *
 * What an operation may decide from its payload is the runtime's business (README "Threat model":
 * the guard decides from stored state); these schemas only say what the payload looks like.
 */
import * as z from '../yaml/zod';

const nonEmpty = z.string().check(z.minLength(1));

/** The incident as the execution carries it (the Start incident state's output). */
export const incidentRefSchema = z.looseObject({
  id: nonEmpty,
  playbook: nonEmpty,
  service: nonEmpty,
  severity: z.enum(['LOW', 'MEDIUM', 'HIGH', 'CRITICAL']),
  alarmName: z.optional(z.string()),
  alarmReason: z.optional(z.string()),
});
export type IncidentRef = z.infer<typeof incidentRefSchema>;

const stepResultSchema = z.looseObject({ summary: z.optional(z.string()), outputs: z.nullish(z.record(z.string(), z.unknown())) });

/** Fields every core Task payload but `Fn_incident:start` carries (the compiler's CONTEXT_REFS). */
export const executionRefsSchema = z.object({
  incident: incidentRefSchema,
  context: z._default(z.record(z.string(), z.unknown()), {}),
  steps: z._default(z.record(z.string(), stepResultSchema), {}),
});
export type ExecutionRefs = z.infer<typeof executionRefsSchema>;

// ---- Fn_incident ----------------------------------------------------------------------------

/** `Start incident`: the machine's input, which playbook version it was compiled from, and the execution. */
export const startPayloadSchema = z.object({
  op: z.literal('start'),
  playbook: z.string(),
  /** The content hash the machine was compiled from; it must be the one this function bundles. */
  playbook_hash: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  kind: z.enum(['alarm', 'schedule']),
  service: z.nullish(z.string()),
  risk: z.string(),
  input: z.looseObject({ incident: z.optional(incidentRefSchema), context: z.optional(z.record(z.string(), z.unknown())) }),
  /** The execution's name and ARN (`$$.Execution`); absent in payloads built by hand. */
  execution: z.optional(nonEmpty),
  executionArn: z.optional(nonEmpty),
});

/** Why a step did not run (not_run, refused, approval_rejected, approval_expired). */
export const recordPayloadSchema = z.extend(executionRefsSchema, { op: z.literal('record'), event: z.string(), step: z.string(), error: z.optional(z.unknown()) });

/** `Resolve incident` / `Close check`. */
export const finishPayloadSchema = z.extend(executionRefsSchema, { op: z.enum(['resolve', 'close']) });

/** While escalated: recovered yet? */
export const recoveredCheckPayloadSchema = z.extend(executionRefsSchema, { op: z.literal('check'), playbook: z.string(), rules: z._default(z.array(z.string()), []) });

// ---- Fn_breaker -----------------------------------------------------------------------------

/** `<step>: breaker gate`. */
export const gatePayloadSchema = z.extend(executionRefsSchema, { op: z.literal('gate'), step: z.string(), action: z.string() });

/** `<step>: failed`. */
export const failurePayloadSchema = z.extend(executionRefsSchema, { op: z.literal('failure'), step: z.string(), action: z.string(), on_fail: z.enum(['skip', 'abort']), error: z.optional(z.unknown()) });

// ---- Fn_evaluate ----------------------------------------------------------------------------

/** `<step>: check condition`. */
export const conditionPayloadSchema = z.extend(executionRefsSchema, { op: z.literal('condition'), step: z.string(), condition: z.string() });

/** `Verify recovery`. */
export const verifyPayloadSchema = z.extend(executionRefsSchema, { op: z.literal('verify'), playbook: z.string(), rules: z._default(z.array(z.string()), []) });

// ---- Fn_escalate ----------------------------------------------------------------------------

/** An unanswered approval climbs a level, or the incident is handed to people. */
export const escalatePayloadSchema = z.extend(executionRefsSchema, { op: z.enum(['approval', 'incident']), step: z.optional(z.string()), level: z.optional(z.int()), playbook: z.optional(z.string()) });

// ---- Fn_approval_request --------------------------------------------------------------------

/** `<step>: approval L<n>` (waitForTaskToken). */
export const approvalRequestPayloadSchema = z.extend(executionRefsSchema, {
  op: z.literal('request'),
  taskToken: z.string().check(z.minLength(1), z.maxLength(2048)),
  step: z.string(),
  level: z.int().check(z.gte(2), z.lte(4)),
  /** This level's window (sped up locally); never longer than the compiled one. */
  timeout_seconds: z.number().check(z.positive()),
  /**
   * When this level's window opened: the approval state's `$$.State.EnteredTime`, from which Step
   * Functions counts its TimeoutSeconds (the Lambda runs later). @default - the function's clock
   */
  window_opened_at: z.optional(z.iso.datetime()),
  /** The execution waiting (`$$.Execution.Id`). */
  execution: z.optional(nonEmpty),
});

// ---- Fn_report ------------------------------------------------------------------------------

/** `Write report`. */
export const reportPayloadSchema = z.extend(executionRefsSchema, { op: z.literal('report'), playbook: z.string() });

// ---- Fn_investigate -------------------------------------------------------------------------

/** One read-only check of the investigation (a branch of the Investigate Parallel state). */
export const investigationCheckPayloadSchema = z.extend(executionRefsSchema, { op: z.literal('check'), check: nonEmpty });

/** A check's outcome as the Parallel state collects it (the check's result, or its Catch's Pass state). */
export const checkOutcomeSchema = z.looseObject({ name: z.string(), status: z.enum(['ok', 'skipped', 'failed', 'timed_out']), kind: z.optional(z.string()), error: z.optional(z.unknown()), data: z.optional(z.record(z.string(), z.unknown())), at: z.optional(z.string()) });

/** `Conclude investigation`. */
export const concludePayloadSchema = z.extend(executionRefsSchema, { op: z.literal('conclude'), playbook: z.string(), checks: z.array(checkOutcomeSchema) });

/** Every core Task's payload, by `<FunctionName key>:<op>`, the key `runCore` dispatches on. */
export const CORE_PAYLOADS = {
  'Fn_incident:start': startPayloadSchema,
  'Fn_incident:record': recordPayloadSchema,
  'Fn_incident:check': recoveredCheckPayloadSchema,
  'Fn_incident:resolve': finishPayloadSchema,
  'Fn_incident:close': finishPayloadSchema,
  'Fn_breaker:gate': gatePayloadSchema,
  'Fn_breaker:failure': failurePayloadSchema,
  'Fn_evaluate:condition': conditionPayloadSchema,
  'Fn_evaluate:verify': verifyPayloadSchema,
  'Fn_escalate:approval': escalatePayloadSchema,
  'Fn_escalate:incident': escalatePayloadSchema,
  'Fn_approval_request:request': approvalRequestPayloadSchema,
  'Fn_report:report': reportPayloadSchema,
  'Fn_investigate:check': investigationCheckPayloadSchema,
  'Fn_investigate:conclude': concludePayloadSchema,
} as const;
export type CorePayloadKey = keyof typeof CORE_PAYLOADS;
/** A core payload as the runtime has it once parsed (defaults applied, unknown fields stripped). */
export type CorePayload<K extends CorePayloadKey> = z.infer<(typeof CORE_PAYLOADS)[K]>;

const timingSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('after'), seconds: z.number(), text: z.string() }),
  z.object({ kind: z.literal('for'), seconds: z.number(), text: z.string() }),
  z.object({ kind: z.literal('after_step'), step: z.union([z.number(), z.string()]), text: z.string() }),
]);

/**
 * Fields the compiler writes for people reading an execution's history (the Step Functions
 * console shows each Task's input) and the runtime does not read: its schemas strip them, so
 * they can decide nothing. Only the compiler's types and the contract test know them.
 */
export const INFORMATIONAL_FIELDS = {
  'Fn_evaluate:condition': z.object({ action: z.string(), timing: z.nullable(timingSchema), after_step: z.nullable(z.string()) }),
  'Fn_breaker:gate': z.object({ mutates: z.literal(true) }),
  'Fn_escalate:approval': z.object({ action: z.string() }),
  'Fn_approval_request:request': z.object({ action: z.string() }),
} as const satisfies Partial<Record<CorePayloadKey, z.ZodMiniObject>>;

type Informational<K extends CorePayloadKey> = K extends keyof typeof INFORMATIONAL_FIELDS ? z.input<(typeof INFORMATIONAL_FIELDS)[K]> : unknown;

/** A core payload as the compiler writes it (before JSONPaths are resolved): what the runtime parses, and the informational fields. */
export type EmittedCorePayload<K extends CorePayloadKey> = z.input<(typeof CORE_PAYLOADS)[K]> & Informational<K>;

/**
 * The schema of a payload exactly as the compiler emits it, once its JSONPaths are resolved: the
 * runtime's schema with the informational fields, strict (a field nobody declared is refused).
 */
export function emittedPayloadSchema(key: CorePayloadKey): z.ZodMiniObject {
  const info: z.ZodMiniObject | undefined = (INFORMATIONAL_FIELDS as Partial<Record<CorePayloadKey, z.ZodMiniObject>>)[key];
  return z.strictObject({ ...CORE_PAYLOADS[key].shape, ...info?.shape });
}

// ---- action Tasks ---------------------------------------------------------------------------

/** What an action Task sends: nothing that could lower what the compiled step requires. */
export const actionInvocationSchema = z.strictObject({
  incidentId: z.string().check(z.regex(/^INC-\d{8}-\d{3,}$/, 'an incident id INC-YYYYMMDD-NNN')),
  step: z.string().check(z.minLength(1), z.maxLength(80)),
  params: z.record(z.string(), z.unknown()),
  /** The execution invoking (`$$.Execution.Id`); it must be the incident's. */
  execution: z.string().check(z.minLength(1), z.maxLength(2048)),
});
export type ActionInvocation = z.infer<typeof actionInvocationSchema>;

// ---- typed construction ---------------------------------------------------------------------

/** A JSONPath the state machine resolves: `$.incident`, `$$.Task.Token`, `$` (the whole input). */
export type JsonPath = `$${string}`;

type Keys<T> = Extract<keyof T, string>;
type RequiredKeys<T> = { [K in Keys<T>]-?: object extends Pick<T, K> ? never : K }[Keys<T>];
/** The field a payload key sets: `incident.$` sets `incident`. */
type FieldOf<P> = { [K in keyof P]: K extends `${infer F}.$` ? F : K }[keyof P];

/** Each field of T as its value, or under `<field>.$` as a JSONPath. */
export type PayloadTemplate<T> = { [K in Keys<T>]?: T[K] } & { [K in Keys<T> as `${K}.$`]?: JsonPath };

/**
 * `P` checked as a template of `T`: no key `T` does not declare (as a value or `.$`), every
 * required field of `T` given, and none given twice (as a value and as a JSONPath). Each
 * violation is a compile error naming the field.
 */
export type TemplateOf<T, P> = P &
  { [K in Exclude<keyof P, keyof PayloadTemplate<T>>]: never } &
  { [K in Exclude<RequiredKeys<T>, FieldOf<P>>]: T[K] } &
  { [K in Keys<P> & Keys<T> as `${K}.$` extends keyof P ? K : never]: never };

/**
 * A core Task's payload, checked at compile time against the contract; returned unchanged (the
 * ASL keeps the order its fields are written in).
 * @example corePayload('Fn_report:report', { op: 'report', playbook: 'redis-memory-pressure', 'incident.$': '$.incident' })
 */
export function corePayload<K extends CorePayloadKey, const P extends PayloadTemplate<EmittedCorePayload<K>>>(key: K, payload: TemplateOf<EmittedCorePayload<K>, P>): P {
  void key;
  return payload;
}

/** An action Task's payload, checked at compile time against `actionInvocationSchema`; returned unchanged. */
export function actionPayload<const P extends PayloadTemplate<ActionInvocation>>(payload: TemplateOf<ActionInvocation, P>): P {
  return payload;
}
