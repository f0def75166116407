/**
 * The safety policy (playbooks/policy.yaml): the seed's §3.1 blacklist, the patterns that
 * recognise each category in action parameters, protected services and caps. One loader, used
 * by the compiler and by the runtime guard.
 */
import * as z from '../yaml/zod';
import { DURATION_PATTERN, PlaybookError, problemAt, type ConfigSource } from '../yaml';
import { normaliseEndpoint, type NormalEndpoint } from './endpoints';
import { emptyServiceMap, type ServiceMap } from './services';
import { BLACKLIST_CATEGORIES, type BlacklistHit } from './types';

const patterns = z._default(z.array(z.string().check(z.minLength(1))), []);
const recogniser = z.strictObject({
  services: patterns,
  endpoints: patterns,
  config_keys: patterns,
  feature_flags: patterns,
  sql_tables: patterns,
});

const blacklistOperation = z.strictObject({ category: z.enum(BLACKLIST_CATEGORIES), examples: z.array(z.string()).check(z.minLength(1)) });
const escalationWindow = z.string().check(z.regex(DURATION_PATTERN));

export const policySchema = z.strictObject({
  absolute_blacklist: z.strictObject({
    description: z.string(),
    operations: z.array(blacklistOperation).check(z.minLength(1)),
    agent_can_do: z.strictObject({ description: z.string(), actions: z.array(z.string()) }),
  }),
  recognise: z.partialRecord(z.enum(BLACKLIST_CATEGORIES), recogniser),
  degradable_features: z._default(z.array(z.string().check(z.regex(/^[a-z0-9_.-]+$/, 'a feature flag name (lower case)'))), []),
  api_endpoints: z._default(z.array(z.string().check(z.minLength(1))), []),
  matching_engine_services: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
  protected_services: z.array(z.string().check(z.minLength(1))),
  escalation: z.optional(z.strictObject({ oncall_sre: escalationWindow, team_lead: escalationWindow, director: escalationWindow })),
  caps: z.strictObject({
    max_kills: z.int().check(z.positive()),
    max_scale_factor: z.number().check(z.positive()),
    max_replicas: z.int().check(z.positive()),
    max_memory_factor: z.number().check(z.positive()),
    max_parameter_factor: z.number().check(z.positive()),
    min_scale_factor: z.number().check(z.nonnegative()),
    min_memory_factor: z.number().check(z.nonnegative()),
    min_parameter_factor: z.number().check(z.nonnegative()),
    min_kill_idle_seconds: z.int().check(z.nonnegative()),
    redis_unlink_prefixes: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
    redis_max_unlinks: z.int().check(z.positive()),
  }),
});

export type PolicyDocument = z.infer<typeof policySchema>;

/** What a recogniser pattern is matched against. */
export type PolicyField = 'services' | 'endpoints' | 'config_keys' | 'feature_flags' | 'sql_tables';

export interface Policy {
  readonly file: string;
  readonly document: PolicyDocument;
  readonly caps: PolicyDocument['caps'];
  /** Categories whose patterns for `field` match `value`, one hit per category. */
  classify(field: PolicyField, value: string): BlacklistHit[];
  /** True when `flag` is one of the degradable, non-critical features a step may switch off. */
  isDegradable(flag: string): boolean;
  /** True when the normalised endpoint (`<service>:<port><path>`) is on the api_endpoints allow-list. */
  isEndpointAllowed(endpoint: NormalEndpoint): boolean;
  /** Puts an endpoint in normal form (service identity, decoded and resolved path). @throws EndpointError */
  normaliseEndpoint(endpoint: string): NormalEndpoint;
  /** True when `ref` names the matching engine, however it is spelled (see ServiceMap.identify). */
  isMatchingEngine(ref: string): boolean;
  /** Mutating steps on these services always need approval; `ref` is recognised by identity, not spelling. */
  isProtected(ref: string): boolean;
  /** The service map: namespaces, deployments, database users; identity of service references. */
  readonly services: ServiceMap;
  /** True when `key` is under one of the allow-listed Redis prefixes (`cache:*`). */
  isUnlinkAllowed(key: string): boolean;
}

/** Case-insensitive glob: `*` matches any run of characters, everything else literally. */
export function globMatch(pattern: string, value: string): boolean {
  const re = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${re}$`, 'is').test(value);
}

/** Fields whose values name one setting however its words are joined. */
const SETTING_FIELDS: ReadonlySet<PolicyField> = new Set(['config_keys', 'feature_flags']);

/**
 * The spellings of a configuration key or flag that name one setting: services bind
 * `maintenance-mode`, `maintenanceMode` and `MAINTENANCE_MODE` to the same property (Spring's
 * relaxed binding), so each is matched as `maintenance_mode` too.
 * @example settingSpellings('tickSize-max') // ['tickSize-max', 'tickSize_max', 'tick_Size_max']
 */
function settingSpellings(text: string): string[] {
  const joined = text.replace(/-/g, '_');
  return [...new Set([text, joined, joined.replace(/([a-z0-9])([A-Z])/g, '$1_$2')])];
}

/** Flags are compared case-insensitively, with `-` read as `_` (one feature, one identity). */
function foldFlag(flag: string): string {
  return flag.normalize('NFKC').replace(/\p{Cf}/gu, '').trim().toLowerCase().replace(/-/g, '_');
}

/** Builds a Policy from an already validated document. @default services - an empty service map */
export function createPolicy(document: PolicyDocument, file = '<inline>', services: ServiceMap = emptyServiceMap()): Policy {
  const degradable = new Set(document.degradable_features.map(foldFlag));
  const allowedEndpoints = new Set(document.api_endpoints.map((e) => normaliseEndpoint(e, services).key));
  const named = (list: readonly string[]) => new Set(list.map((s) => services.identify(s).name));
  const matching = named(document.matching_engine_services);
  const protectedNames = named(document.protected_services);
  return {
    file,
    document,
    caps: document.caps,
    classify(field, value) {
      const hits: BlacklistHit[] = [];
      for (const category of BLACKLIST_CATEGORIES) {
        const pats = document.recognise[category]?.[field] ?? [];
        // One identity per name: full-width letters and invisible characters do not hide a pattern.
        const folded = value.normalize('NFKC').replace(/\p{Cf}/gu, '');
        const forms = SETTING_FIELDS.has(field) ? settingSpellings(folded) : [folded];
        const hit = pats.find((p) => forms.some((f) => globMatch(SETTING_FIELDS.has(field) ? p.replace(/-/g, '_') : p, f)));
        if (hit) hits.push({ category, reason: `${field.replace(/s$/, '').replace('_', ' ')} "${value}" matches "${hit}"` });
      }
      return hits;
    },
    isDegradable: (flag) => degradable.has(foldFlag(flag)),
    isEndpointAllowed: (endpoint) => allowedEndpoints.has(endpoint.key),
    normaliseEndpoint: (endpoint) => normaliseEndpoint(endpoint, services),
    isMatchingEngine: (ref) => matching.has(services.identify(ref).name),
    isProtected: (ref) => protectedNames.has(services.identify(ref).name),
    services,
    isUnlinkAllowed: (key) => document.caps.redis_unlink_prefixes.some((p) => globMatch(p, key)),
  };
}

/**
 * Validates a policy (a YAML file read by lib/policy/files.ts, or the copy compiled to JSON a
 * Lambda bundles) with the service map beside it.
 * @throws PlaybookError naming file, position and field of every problem
 */
export function policyFromSource(src: ConfigSource, services: ServiceMap): Policy {
  const result = policySchema.safeParse(src.value);
  if (!result.success) throw new PlaybookError(result.error.issues.map((issue) => problemAt(src, issue.path as (string | number)[], issue.message)));
  return createPolicy(result.data, src.file, services);
}
