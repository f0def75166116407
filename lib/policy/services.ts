/**
 * The service map (playbooks/services.yaml): service → Kubernetes namespace, deployment,
 * containers, database users and consumer groups. It also recognises a service by identity, not
 * by spelling: `MATCHING-ENGINE:8080`, `matching-engine.trading.svc.cluster.local`,
 * `trading/matching-engine`, `deployment/matching-engine` and `http://matching-engine:8080/x`
 * all name the matching engine, so a protected service cannot be reached by writing it another way.
 */
import * as z from '../yaml/zod';
import { PlaybookError, problemAt, type ConfigSource } from '../yaml';

const k8sName = z.string().check(z.regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a Kubernetes name (lower case, digits and "-")'), z.maxLength(63));

const serviceSchema = z.strictObject({
  description: z.optional(z.string()),
  /** @default true: the service runs as a Kubernetes deployment */
  kubernetes: z._default(z.boolean(), true),
  /** @default "default" */
  namespace: z._default(k8sName, 'default'),
  /** @default the service's own name */
  deployment: z.optional(k8sName),
  containers: z._default(z.array(z.string().check(z.minLength(1))), []),
  /** Database users the service connects as (leaking-service analysis, KILL filter). */
  database_users: z._default(z.array(z.string().check(z.minLength(1))), []),
  /** Kafka consumer groups the service's pods consume as. */
  consumer_groups: z._default(z.array(z.string().check(z.minLength(1))), []),
});

export const serviceMapSchema = z.strictObject({ services: z.record(k8sName, serviceSchema) });
export type ServiceMapDocument = z.infer<typeof serviceMapSchema>;

/** One service of the map, with defaults filled. */
export interface ServiceEntry {
  readonly name: string;
  readonly kubernetes: boolean;
  readonly namespace: string;
  readonly deployment: string;
  readonly containers: readonly string[];
  readonly databaseUsers: readonly string[];
  readonly consumerGroups: readonly string[];
}

/** What a reference to a service names, once canonicalised. */
export interface ServiceIdentity {
  /** The canonical name: lower case, no port, no domain, `_` read as `-`. */
  readonly name: string;
  /** The namespace the reference spelled out, if any. */
  readonly namespace?: string;
  /** The service of the map it names, when it names one (by service or deployment name). */
  readonly service?: string;
}

export interface ServiceMap {
  readonly file: string;
  readonly services: Readonly<Record<string, ServiceEntry>>;
  /** The service a reference names (see the module comment for the spellings understood). */
  identify(ref: string): ServiceIdentity;
  /** The entry of a service; a service not in the map is its own deployment in `default`. */
  entry(service: string): ServiceEntry;
  /** The service a database user belongs to. */
  serviceOfDatabaseUser(user: string): string | undefined;
  /** The service that consumes as a Kafka consumer group. */
  serviceOfConsumerGroup(group: string): string | undefined;
}

/** Kubernetes resource kinds a reference may start with (`deployment/x`, `deploy/x`, `svc/x`...). */
const KINDS = new Set([
  'deployment', 'deployments', 'deploy', 'deployment.apps', 'deployments.apps',
  'service', 'services', 'svc', 'pod', 'pods', 'po', 'replicaset', 'replicasets', 'rs',
  'horizontalpodautoscaler', 'horizontalpodautoscalers', 'hpa', 'statefulset', 'statefulsets', 'sts',
]);

/**
 * Folds the ways one name can be written: Unicode compatibility forms (full-width letters),
 * invisible format characters (zero-width spaces), case, `_` for `-`, a trailing dot.
 */
function fold(text: string): string {
  return text.normalize('NFKC').replace(/\p{Cf}/gu, '').trim().toLowerCase().replace(/_/g, '-').replace(/\.$/, '');
}

/** `name[.namespace[.svc[.cluster.local]]][:port]` or an IP: the name and namespace it spells. */
function fromHost(host: string): { name: string; namespace?: string } {
  const noUser = host.replace(/^[^@]*@/, '');
  const v6 = /^\[([^\]]*)\](?::\d+)?$/.exec(noUser);
  if (v6) return { name: v6[1] ?? noUser };
  const bare = noUser.replace(/:\d*$/, '').replace(/\.$/, '');
  if (/^[\d.]+$/.test(bare)) return { name: bare };
  const labels = bare.split('.');
  return labels.length >= 2 ? { name: labels[0] ?? bare, namespace: labels[1] } : { name: bare };
}

/** Splits a reference into the name and namespace it spells, before the map is consulted. */
export function parseServiceRef(ref: string): { name: string; namespace?: string } {
  let text = fold(ref);
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//.exec(text);
  if (scheme) return fromHost(text.slice(scheme[0].length).split(/[/?#]/)[0] ?? '');
  text = text.replace(/^\/+|\/+$/g, '');
  const parts = text.split('/').filter((p) => p.length > 0);
  // `host:port/path` or `name.namespace.svc/path`: an endpoint, not a namespace/name pair.
  if (parts.length > 1 && /[:.]/.test(parts[0] ?? '') && !KINDS.has(parts[0] ?? '')) return fromHost(parts[0] ?? '');
  const plain = parts.filter((p) => !KINDS.has(p));
  if (plain.length === 0) return { name: text };
  const name = plain[plain.length - 1] ?? text;
  const namespace = plain.length > 1 ? plain[0] : undefined;
  if (/[:.]/.test(name)) {
    const host = fromHost(name);
    const ns = namespace ?? host.namespace;
    return ns ? { name: host.name, namespace: ns } : { name: host.name };
  }
  return namespace ? { name, namespace } : { name };
}

/** Builds a ServiceMap from an already validated document. */
export function createServiceMap(document: ServiceMapDocument, file = '<inline>'): ServiceMap {
  const services: Record<string, ServiceEntry> = {};
  for (const [name, s] of Object.entries(document.services)) {
    services[name] = {
      name,
      kubernetes: s.kubernetes,
      namespace: s.namespace,
      deployment: s.deployment ?? name,
      containers: s.containers,
      databaseUsers: s.database_users,
      consumerGroups: s.consumer_groups,
    };
  }
  const byName = new Map<string, string>();
  for (const s of Object.values(services)) {
    byName.set(fold(s.name), s.name);
    if (s.kubernetes) byName.set(fold(s.deployment), s.name);
  }
  const byUser = new Map<string, string>();
  const byGroup = new Map<string, string>();
  for (const s of Object.values(services)) {
    for (const u of s.databaseUsers) byUser.set(u.toLowerCase(), s.name);
    for (const g of s.consumerGroups) byGroup.set(g, s.name);
  }
  return {
    file,
    services,
    identify(ref) {
      const { name, namespace } = parseServiceRef(ref);
      const service = byName.get(name);
      return { name: service ?? name, ...(namespace ? { namespace } : {}), ...(service ? { service } : {}) };
    },
    entry(service) {
      return services[service] ?? { name: service, kubernetes: true, namespace: 'default', deployment: service, containers: [], databaseUsers: [], consumerGroups: [] };
    },
    serviceOfDatabaseUser: (user) => byUser.get(user.toLowerCase()),
    serviceOfConsumerGroup: (group) => byGroup.get(group),
  };
}

/** Validates a service map (a YAML file, or the copy compiled to JSON). @throws PlaybookError naming file, position and field of every problem */
export function serviceMapFromSource(src: ConfigSource): ServiceMap {
  const result = serviceMapSchema.safeParse(src.value);
  if (!result.success) throw new PlaybookError(result.error.issues.map((issue) => problemAt(src, issue.path as (string | number)[], issue.message)));
  return createServiceMap(result.data, src.file);
}

/** An empty map: every service is its own deployment in `default`. */
export function emptyServiceMap(): ServiceMap {
  return createServiceMap({ services: {} });
}
