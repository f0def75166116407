/**
 * The API resources the sandbox serves, as discovery (/api/v1, /apis/apps/v1 ...) lists them for
 * kubectl's REST mapper: plural, singular, kind, scope, verbs, short names and subresources.
 * Names and short names are those of a real API server (`kubectl api-resources`).
 */

export interface ResourceType {
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  /** Plural, lower case: the path segment. */
  readonly resource: string;
  readonly singular: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly verbs: readonly string[];
  readonly shortNames?: readonly string[];
  readonly categories?: readonly string[];
  /** Subresources with the kind they return and their verbs. */
  readonly subresources?: Readonly<Record<string, { kind: string; group?: string; version?: string; verbs: readonly string[] }>>;
}

const ALL = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;

export const RESOURCE_TYPES: readonly ResourceType[] = [
  { group: '', version: 'v1', resource: 'namespaces', singular: 'namespace', kind: 'Namespace', namespaced: false, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], shortNames: ['ns'] },
  { group: '', version: 'v1', resource: 'nodes', singular: 'node', kind: 'Node', namespaced: false, verbs: ALL, shortNames: ['no'] },
  {
    group: '',
    version: 'v1',
    resource: 'pods',
    singular: 'pod',
    kind: 'Pod',
    namespaced: true,
    verbs: ALL,
    shortNames: ['po'],
    categories: ['all'],
    subresources: { exec: { kind: 'PodExecOptions', verbs: ['create', 'get'] }, log: { kind: 'Pod', verbs: ['get'] }, status: { kind: 'Pod', verbs: ['get', 'patch', 'update'] } },
  },
  { group: '', version: 'v1', resource: 'events', singular: 'event', kind: 'Event', namespaced: true, verbs: ALL, shortNames: ['ev'] },
  { group: '', version: 'v1', resource: 'secrets', singular: 'secret', kind: 'Secret', namespaced: true, verbs: ALL },
  {
    group: 'apps',
    version: 'v1',
    resource: 'deployments',
    singular: 'deployment',
    kind: 'Deployment',
    namespaced: true,
    verbs: ALL,
    shortNames: ['deploy'],
    categories: ['all'],
    subresources: { scale: { kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] }, status: { kind: 'Deployment', verbs: ['get', 'patch', 'update'] } },
  },
  {
    group: 'apps',
    version: 'v1',
    resource: 'replicasets',
    singular: 'replicaset',
    kind: 'ReplicaSet',
    namespaced: true,
    verbs: ALL,
    shortNames: ['rs'],
    categories: ['all'],
    subresources: { scale: { kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] }, status: { kind: 'ReplicaSet', verbs: ['get', 'patch', 'update'] } },
  },
  {
    group: 'autoscaling',
    version: 'v2',
    resource: 'horizontalpodautoscalers',
    singular: 'horizontalpodautoscaler',
    kind: 'HorizontalPodAutoscaler',
    namespaced: true,
    verbs: ALL,
    shortNames: ['hpa'],
    categories: ['all'],
    subresources: { status: { kind: 'HorizontalPodAutoscaler', verbs: ['get', 'patch', 'update'] } },
  },
  { group: 'metrics.k8s.io', version: 'v1beta1', resource: 'pods', singular: '', kind: 'PodMetrics', namespaced: true, verbs: ['get', 'list'] },
  { group: 'metrics.k8s.io', version: 'v1beta1', resource: 'nodes', singular: '', kind: 'NodeMetrics', namespaced: false, verbs: ['get', 'list'] },
];

/** The type served at `group/version/resource`, if any. */
export function resourceType(group: string, version: string, resource: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.group === group && t.version === version && t.resource === resource);
}

/** The one type per group/resource the store keeps objects of (metrics are computed, not stored). */
export function storedType(group: string, resource: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.group === group && t.resource === resource && t.group !== 'metrics.k8s.io');
}

export function apiVersionOf(t: ResourceType): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

/** The groups of /apis, in the order a real server lists them (preferred version first). */
export function apiGroups(): { name: string; versions: string[] }[] {
  const groups = new Map<string, string[]>();
  for (const t of RESOURCE_TYPES) {
    if (!t.group) continue;
    const versions = groups.get(t.group) ?? [];
    if (!versions.includes(t.version)) versions.push(t.version);
    groups.set(t.group, versions);
  }
  return [...groups].map(([name, versions]) => ({ name, versions }));
}

/** The APIResourceList of one group/version, subresources as `deployments/scale`. */
export function apiResourceList(group: string, version: string): { kind: 'APIResourceList'; apiVersion: 'v1'; groupVersion: string; resources: unknown[] } | undefined {
  const types = RESOURCE_TYPES.filter((t) => t.group === group && t.version === version);
  if (types.length === 0) return undefined;
  const resources: unknown[] = [];
  for (const t of types) {
    resources.push({
      name: t.resource,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: t.verbs,
      ...(t.shortNames ? { shortNames: t.shortNames } : {}),
      ...(t.categories ? { categories: t.categories } : {}),
    });
    for (const [sub, s] of Object.entries(t.subresources ?? {})) {
      resources.push({ name: `${t.resource}/${sub}`, singularName: '', namespaced: t.namespaced, ...(s.group ? { group: s.group, version: s.version } : {}), kind: s.kind, verbs: s.verbs });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}

/**
 * The OpenAPI v3 discovery kubectl reads before create/replace/patch with field validation: the
 * root lists one document per group/version, and each document has the PATCH operation of every
 * resource, tagged with its group/version/kind and its `fieldValidation` query parameter
 * (kubectl's QueryParamVerifierV3 looks for exactly that, then leaves validation to the server).
 * Schemas are left out: nothing kubectl does against the sandbox reads them.
 */
export function openApiV3Root(): { paths: Record<string, { serverRelativeURL: string }> } {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const t of RESOURCE_TYPES) {
    if (t.group === 'metrics.k8s.io') continue;
    const gv = t.group ? `apis/${t.group}/${t.version}` : `api/${t.version}`;
    paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${Buffer.from(gv).toString('hex').slice(0, 32).toUpperCase()}` };
  }
  return { paths };
}

export function openApiV3Document(gvPath: string): unknown | undefined {
  const types = RESOURCE_TYPES.filter((t) => t.group !== 'metrics.k8s.io' && (t.group ? `apis/${t.group}/${t.version}` : `api/${t.version}`) === gvPath);
  if (types.length === 0) return undefined;
  const query = (name: string) => ({ name, in: 'query', description: name, schema: { type: 'string', uniqueItems: true } });
  const paths: Record<string, unknown> = {};
  for (const t of types) {
    const base = `/${gvPath}/${t.namespaced ? 'namespaces/{namespace}/' : ''}${t.resource}/{name}`;
    const gvk = { group: t.group, version: t.version, kind: t.kind };
    const op = (action: string) => ({ 'x-kubernetes-action': action, 'x-kubernetes-group-version-kind': gvk, parameters: [query('dryRun'), query('fieldManager'), query('fieldValidation')], responses: { '200': { description: 'OK' } } });
    paths[base] = { get: { 'x-kubernetes-action': 'get', 'x-kubernetes-group-version-kind': gvk, responses: { '200': { description: 'OK' } } }, put: op('put'), patch: op('patch') };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.31.4' }, paths, components: {} };
}
