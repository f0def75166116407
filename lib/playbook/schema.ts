/**
 * The playbook format, as one zod definition: the loader validates with it, TypeScript types are
 * inferred from it, and playbooks/schema.json (for editors) is generated from it.
 *
 * Fields from the seed's `playbook:` blocks keep their names and meaning, so a block copied
 * verbatim from the seed loads. Fields the seed does not have are marked "added".
 */
import * as z from '../yaml/zod';
import { RISK_LEVELS } from '../policy/types';
import { DURATION_PATTERN } from '../yaml';

/**
 * A step name: in any script (the Step Functions console shows it as the state's name, and ASL
 * allows any Unicode): a letter, then letters, combining marks, digits or `_`, at most 48
 * characters (code points), so that every state derived from it stays within ASL's 80. Latin letters
 * are lowercase (snake_case, as before); no spaces, punctuation, symbols or invisible format
 * characters, which keeps the name a JSONPath member name (RFC 9535 shorthand: `$.run.steps.扩容`)
 * and free of the characters AWS forbids in names. Nothing in AWS is named after a step: functions,
 * roles and alarms are named after playbooks (ASCII kebab-case) and actions.
 *
 * @example STEP_NAME.test('scale_up') // true
 * @example STEP_NAME.test('扩容') // true
 * @example STEP_NAME.test('Scale-Up') // false
 */
export const STEP_NAME = /^(?![^\p{L}])(?!.*[A-Z])[\p{L}\p{M}\p{N}_]{1,48}$/u;
/** What STEP_NAME asks for, in words (the loader's message). */
export const STEP_NAME_RULE = 'a letter of any script, then letters, digits or _ (Latin letters lowercase: snake_case), at most 48 characters; no spaces, punctuation or symbols';
export const PLAYBOOK_NAME = /^[a-z][a-z0-9-]{0,47}$/;

const duration = z.string().check(z.regex(DURATION_PATTERN, 'a duration such as 90s, 5min, 2h or 30d'));
const risk = z.enum(RISK_LEVELS);
/** The seed writes playbook-level risk as a level or a range: `LOW-MEDIUM`, `MEDIUM-HIGH`. */
const riskRange = z.string().check(z.regex(/^(LOW|MEDIUM|HIGH|CRITICAL)(-(LOW|MEDIUM|HIGH|CRITICAL))?$/, 'LOW, MEDIUM, HIGH, CRITICAL or a range such as LOW-MEDIUM'));

/** Detection rules as the seed writes them: expressions (`api_request_rate > baseline * 3`) or one-key maps (`log_pattern: "..."`). */
const detectionRule = z.union([z.string().check(z.minLength(1)), z.record(z.string(), z.union([z.string(), z.number()]))]);

const nonEmpty = z.string().check(z.minLength(1));
const role = z.string().check(z.regex(/^[a-z][a-z0-9_]*$/, 'a role such as oncall_sre or dba'));

const stepName = z
  .string()
  .check(
    z.regex(STEP_NAME, STEP_NAME_RULE),
    z.refine((n) => n === n.normalize('NFC'), 'not in Unicode normal form C (NFC): write it as composed characters, so that two spellings of one name cannot be two steps'),
    z.describe('Step name, in any script (扩容, scale_up); also the name of its state in the state machine.'),
  );

export const stepSchema = z.strictObject({
  name: stepName,
  action: nonEmpty.check(z.describe('An action from the registry (lib/actions).')),
  params: z.optional(z.record(z.string(), z.unknown())).check(z.describe("The action's parameters; strings may hold {{templates}}.")),
  condition: z.optional(nonEmpty).check(z.describe('Run the step only when this holds, e.g. "latency_p99 still > 200ms after 3min".')),
  risk: z.optional(risk).check(z.describe("Risk of this step; defaults to the action's risk.")),
  auto_execute: z.optional(z.boolean()).check(z.describe('Run without approval. Refused for blacklisted, matching-engine or HIGH-risk mutating steps.')),
  requires_approval: z.optional(z.boolean()).check(z.describe('Wait for human approval (task token) before running.')),
  approvers: z.optional(z.array(role).check(z.minLength(1))).check(z.describe('Roles that must approve. Required for HIGH risk. Default: [oncall_sre].')),
  approval_message: z.optional(z.string()).check(z.describe('Message sent with the approval request; {{templates}} filled from live metrics.')),
  on_fail: z.optional(z.enum(['skip', 'abort'])).check(z.describe('skip: record the failure and go on; abort (default): stop and escalate.')),
  note: z.optional(z.string()).check(z.describe('Free text shown with the approval request and in the plan.')),
  description: z.optional(z.string()).check(z.describe('(added) What the step is for.')),
  timeout: z.optional(duration).check(z.describe("(added) Upper bound of the action; default: the action's own.")),
  min_approvals: z.optional(z.int().check(z.positive())).check(z.describe('(added) Approvals needed; default: every listed approver role.')),
});

const playbookName = z
  .string()
  .check(
    z.regex(PLAYBOOK_NAME, 'ASCII kebab-case (a-z, 0-9 and -, starting with a letter), at most 48 characters: it names AWS resources (state machine, alarms, rules)'),
    z.describe('Playbook name, ASCII kebab-case; also the state machine name.'),
  );
const detection = z.strictObject({ primary: z.array(detectionRule).check(z.minLength(1)), secondary: z.optional(z.array(detectionRule)) });
const escalation = z.strictObject({ oncall_sre: z.optional(duration), team_lead: z.optional(duration), director: z.optional(duration) });
const schedule = z.string().check(z.regex(/^(rate|cron)\(.+\)$/, 'an EventBridge schedule such as rate(1 day) or cron(0 1 * * ? *)'));

export const playbookSchema = z.strictObject({
  playbook: playbookName,
  risk: riskRange.check(z.describe('Overall risk, as the seed writes it.')),
  trigger: z.optional(z.enum(['alarm', 'daily_check'])).check(z.describe('daily_check: a scheduled machine; default alarm.')),
  steps: z.array(stepSchema).check(z.minLength(1)),
  description: z.optional(z.string()).check(z.describe('(added) One paragraph: the scenario.')),
  service: z.optional(nonEmpty).check(z.describe('(added) Service used when the alarm names none.')),
  triggers: z.optional(z.array(z.string())).check(z.describe("(added) The seed's trigger conditions, as prose.")),
  detection: z.optional(detection).check(z.describe("(added) The seed's detection block: primary rules become CloudWatch alarms.")),
  analysis: z.optional(z.unknown()).check(z.describe("(added) The seed's analysis block, kept for the report and the approvers.")),
  variables: z
    .optional(z.record(z.string().check(z.regex(/^[a-z][a-z0-9_]*$/)), z.string()))
    .check(z.describe('(added) Names used in conditions and messages → metric catalogue names.')),
  escalation: z
    .optional(escalation)
    .check(z.describe('(added) How long each escalation level waits for an approval. Defaults 10min, 15min, 30min (seed §4.1).')),
  schedule: z.optional(schedule).check(z.describe('(added) For trigger: daily_check; default rate(1 day).')),
  max_duration: z
    .optional(duration)
    .check(z.describe('(added) Upper bound of one execution; the compiler refuses playbooks whose worst case exceeds it. Default 12h.')),
});

export type StepSpec = z.infer<typeof stepSchema>;
export type PlaybookSpec = z.infer<typeof playbookSchema>;

/** JSON Schema of the playbook format, for editors (`# yaml-language-server: $schema=./schema.json`). */
export function playbookJsonSchema(actionNames: readonly string[]): Record<string, unknown> {
  const schema = z.toJSONSchema(playbookSchema, { target: 'draft-7', io: 'input' }) as Record<string, unknown>;
  const steps = ((schema.properties as Record<string, { items: { properties: Record<string, Record<string, unknown>> } }>).steps.items.properties);
  steps.action = { ...steps.action, enum: [...actionNames].sort() };
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $comment: 'Generated by `npm run compile` from lib/playbook/schema.ts; do not edit.',
    title: 'sre-agent playbook',
    ...schema,
  };
}
