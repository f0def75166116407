/**
 * The sandbox's object store, with the API server's storage semantics: one resourceVersion counter
 * for every write, optimistic concurrency (a write that names an old resourceVersion is a 409),
 * metadata.generation bumped on spec changes, label and field selectors, and a watch cache that
 * replays changes after a resourceVersion (410 Gone when it is too old).
 */
import { randomUUID } from 'node:crypto';
import { alreadyExists, badRequest, conflict, gone, notFound } from './errors';
import { storedType, type ResourceType } from './resources';

/** Any Kubernetes object, as JSON. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  status?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  [field: string]: unknown;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }[];
  generateName?: string;
  [field: string]: unknown;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  readonly type: WatchEventType;
  readonly rv: number;
  readonly typeKey: string;
  readonly object: KubeObject;
}

export interface ListFilter {
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

/** How many changes the watch cache keeps (the API server keeps a window too; older → 410). */
const WATCH_CACHE = 20000;

function clone<T>(value: T): T {
  return structuredClone(value);
}

/** JSON with object keys sorted: equal values give equal text whatever order a patch left the keys in. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));
}

/**
 * What a decode/encode through the Go types does to the objects we keep: an embedded pod
 * template's ObjectMeta has a zero creationTimestamp, which encodes as `null` (as `kubectl get
 * deploy -o yaml` shows on a 1.31 server).
 */
function roundTrip(obj: KubeObject): KubeObject {
  if ((obj.kind === 'Deployment' || obj.kind === 'ReplicaSet') && obj.spec?.template) {
    obj.spec.template.metadata = { creationTimestamp: null, ...obj.spec.template.metadata };
    obj.spec.template.metadata.creationTimestamp = null;
  }
  return obj;
}

function keyOf(t: ResourceType): string {
  return `${t.group}/${t.resource}`;
}

// ---------------------------------------------------------------------------------------------
// Selectors (k8s.io/apimachinery/pkg/labels and pkg/fields)
// ---------------------------------------------------------------------------------------------

type Requirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'notexists'; key: string };

/** Splits on commas that are not inside `( )`. */
function splitTop(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur);
  return out.map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Parses a label selector: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`. */
export function parseLabelSelector(selector: string): Requirement[] {
  return splitTop(selector).map((part) => {
    let m = /^([^\s!=()]+)\s*(==|=|!=)\s*([^\s=()]*)$/.exec(part);
    if (m) return { op: m[2] === '!=' ? 'neq' : 'eq', key: m[1] as string, value: m[3] as string };
    m = /^([^\s!=()]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
    if (m) return { op: m[2] as 'in' | 'notin', key: m[1] as string, values: (m[3] as string).split(',').map((v) => v.trim()).filter(Boolean) };
    m = /^(!?)([^\s!=()]+)$/.exec(part);
    if (m) return { op: m[1] ? 'notexists' : 'exists', key: m[2] as string };
    throw badRequest(`unable to parse requirement: invalid label selector "${selector}"`);
  });
}

export function matchesLabels(labels: Readonly<Record<string, string>> | undefined, requirements: readonly Requirement[]): boolean {
  const l = labels ?? {};
  return requirements.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'eq':
        return has && l[r.key] === r.value;
      case 'neq':
        return !has || l[r.key] !== r.value;
      case 'in':
        return has && r.values.includes(l[r.key] as string);
      case 'notin':
        return !has || !r.values.includes(l[r.key] as string);
      case 'exists':
        return has;
      case 'notexists':
        return !has;
    }
  });
}

/** A metav1.LabelSelector (matchLabels + matchExpressions) as selector text. */
export function labelSelectorText(selector: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | undefined): string {
  if (!selector) return '';
  const parts = Object.entries(selector.matchLabels ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

/** Field values the sandbox supports in field selectors, per kind (the real server supports these too). */
function fieldValue(obj: KubeObject, field: string): string | undefined {
  switch (field) {
    case 'metadata.name':
      return obj.metadata.name;
    case 'metadata.namespace':
      return obj.metadata.namespace ?? '';
    case 'status.phase':
      return obj.kind === 'Pod' ? String(obj.status?.phase ?? '') : undefined;
    case 'spec.nodeName':
      return obj.kind === 'Pod' ? String(obj.spec?.nodeName ?? '') : undefined;
    case 'type':
      return obj.kind === 'Event' || obj.kind === 'Secret' ? String((obj as Record<string, unknown>).type ?? '') : undefined;
    case 'reason':
      return obj.kind === 'Event' ? String((obj as Record<string, unknown>).reason ?? '') : undefined;
    default: {
      const m = /^involvedObject\.(kind|namespace|name|uid|apiVersion|resourceVersion|fieldPath)$/.exec(field);
      if (m && obj.kind === 'Event') return String(((obj as Record<string, unknown>).involvedObject as Record<string, unknown> | undefined)?.[m[1] as string] ?? '');
      if (field === 'spec.unschedulable' && obj.kind === 'Node') return String(obj.spec?.unschedulable ?? false);
      return undefined;
    }
  }
}

function fieldMatcher(selector: string | undefined, kind: string): (obj: KubeObject) => boolean {
  if (!selector) return () => true;
  const reqs = splitTop(selector).map((part) => {
    const m = /^([^!=]+?)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!m) throw badRequest(`invalid field selector: "${part}"`);
    return { field: (m[1] as string).trim(), neq: m[2] === '!=', value: (m[3] as string).trim() };
  });
  return (obj) =>
    reqs.every((r) => {
      const v = fieldValue(obj, r.field);
      if (v === undefined) throw badRequest(`"${r.field}" is not a known field selector: only "metadata.name", "metadata.namespace"${kind === 'Pod' ? ', "status.phase", "spec.nodeName"' : ''}`);
      return r.neq ? v !== r.value : v === r.value;
    });
}

// ---------------------------------------------------------------------------------------------
// The store
// ---------------------------------------------------------------------------------------------

export interface WriteOptions {
  /** Validate and answer, but persist nothing (dryRun=All): no resourceVersion is consumed. */
  readonly dryRun?: boolean;
}

export class ObjectStore {
  private rv = 1;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly log: StoreEvent[] = [];
  private readonly watchers = new Set<(e: StoreEvent) => void>();
  private readonly now: () => Date;

  public constructor(now: () => Date = () => new Date()) {
    this.now = now;
  }

  /** The current resourceVersion (of the last write). */
  public get resourceVersion(): string {
    return String(this.rv);
  }

  private bucket(t: ResourceType): Map<string, KubeObject> {
    const k = keyOf(t);
    let b = this.objects.get(k);
    if (!b) {
      b = new Map();
      this.objects.set(k, b);
    }
    return b;
  }

  private static id(t: ResourceType, namespace: string | undefined, name: string): string {
    return t.namespaced ? `${namespace ?? ''}/${name}` : name;
  }

  private emit(type: WatchEventType, t: ResourceType, object: KubeObject): void {
    const event: StoreEvent = { type, rv: Number(object.metadata.resourceVersion), typeKey: keyOf(t), object: clone(object) };
    this.log.push(event);
    if (this.log.length > WATCH_CACHE) this.log.splice(0, this.log.length - WATCH_CACHE);
    for (const w of this.watchers) w(event);
  }

  public get(t: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const obj = this.bucket(t).get(ObjectStore.id(t, namespace, name));
    if (!obj) throw notFound(t.resource, t.group, name);
    return clone(obj);
  }

  public find(t: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const obj = this.bucket(t).get(ObjectStore.id(t, namespace, name));
    return obj ? clone(obj) : undefined;
  }

  /** Objects of a type, filtered, sorted by namespace then name (as etcd returns them). */
  public list(t: ResourceType, filter: ListFilter = {}): KubeObject[] {
    const labels = filter.labelSelector ? parseLabelSelector(filter.labelSelector) : [];
    const fields = fieldMatcher(filter.fieldSelector, t.kind);
    return [...this.bucket(t).values()]
      .filter((o) => (filter.namespace === undefined || !t.namespaced ? true : o.metadata.namespace === filter.namespace))
      .filter((o) => matchesLabels(o.metadata.labels, labels) && fields(o))
      .sort((a, b) => `${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace ?? ''}/${b.metadata.name}`))
      .map(clone);
  }

  /**
   * Like `list`, without copies and unsorted: the stored objects themselves, for the controllers'
   * reads (a copy per object per loop made the sandbox's controllers the machine's busiest process).
   * Never modify what it returns; `get` a copy to change.
   */
  public scan(t: ResourceType, filter: ListFilter = {}): readonly Readonly<KubeObject>[] {
    const labels = filter.labelSelector ? parseLabelSelector(filter.labelSelector) : [];
    const fields = filter.fieldSelector ? fieldMatcher(filter.fieldSelector, t.kind) : undefined;
    const out: KubeObject[] = [];
    for (const o of this.bucket(t).values()) {
      if (filter.namespace !== undefined && t.namespaced && o.metadata.namespace !== filter.namespace) continue;
      if (labels.length && !matchesLabels(o.metadata.labels, labels)) continue;
      if (fields && !fields(o)) continue;
      out.push(o);
    }
    return out;
  }

  /** A matcher for watch events with the same filter semantics as list. */
  public matcher(t: ResourceType, filter: ListFilter): (o: KubeObject) => boolean {
    const labels = filter.labelSelector ? parseLabelSelector(filter.labelSelector) : [];
    const fields = fieldMatcher(filter.fieldSelector, t.kind);
    return (o) => (filter.namespace === undefined || !t.namespaced || o.metadata.namespace === filter.namespace) && matchesLabels(o.metadata.labels, labels) && fields(o);
  }

  public create(t: ResourceType, input: KubeObject, options: WriteOptions = {}): KubeObject {
    const obj = roundTrip(clone(input));
    const meta = obj.metadata;
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomSuffix(5)}`;
    const id = ObjectStore.id(t, meta.namespace, meta.name);
    if (this.bucket(t).has(id)) throw alreadyExists(t.resource, t.group, meta.name);
    meta.uid = randomUUID();
    meta.creationTimestamp ??= this.now().toISOString().replace(/\.\d{3}Z$/, 'Z');
    if (t.kind === 'Deployment' || t.kind === 'ReplicaSet' || t.kind === 'HorizontalPodAutoscaler') meta.generation = 1;
    if (options.dryRun) {
      meta.resourceVersion = undefined;
      return obj;
    }
    meta.resourceVersion = String(++this.rv);
    this.bucket(t).set(id, obj);
    this.emit('ADDED', t, obj);
    return clone(obj);
  }

  /**
   * Replaces an object. When the new object names a resourceVersion it must be the current one
   * (409 otherwise); without one the write is unconditional, as on the real server for updates
   * that the caller allows to be unconditional (PATCH computes against the latest).
   */
  public update(t: ResourceType, input: KubeObject, options: WriteOptions = {}): KubeObject {
    const obj = roundTrip(clone(input));
    const id = ObjectStore.id(t, obj.metadata.namespace, obj.metadata.name);
    const current = this.bucket(t).get(id);
    if (!current) throw notFound(t.resource, t.group, obj.metadata.name);
    if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== current.metadata.resourceVersion) throw conflict(t.resource, t.group, obj.metadata.name);
    // Identity and bookkeeping fields stay the server's.
    obj.metadata.uid = current.metadata.uid;
    obj.metadata.creationTimestamp = current.metadata.creationTimestamp;
    obj.metadata.generation = current.metadata.generation;
    if (current.metadata.generation !== undefined && canonical(obj.spec) !== canonical(current.spec)) obj.metadata.generation = (current.metadata.generation ?? 0) + 1;
    const withoutVersion = (o: KubeObject) => canonical({ ...o, metadata: { ...o.metadata, resourceVersion: undefined } });
    if (withoutVersion(obj) === withoutVersion(current)) {
      // A write that changes nothing is a no-op: the server keeps the resourceVersion (no event).
      return clone(current);
    }
    if (options.dryRun) {
      obj.metadata.resourceVersion = current.metadata.resourceVersion;
      return obj;
    }
    obj.metadata.resourceVersion = String(++this.rv);
    this.bucket(t).set(id, obj);
    this.emit('MODIFIED', t, obj);
    return clone(obj);
  }

  public delete(t: ResourceType, namespace: string | undefined, name: string, options: WriteOptions = {}): KubeObject {
    const id = ObjectStore.id(t, namespace, name);
    const current = this.bucket(t).get(id);
    if (!current) throw notFound(t.resource, t.group, name);
    if (options.dryRun) return clone(current);
    this.bucket(t).delete(id);
    const deleted = clone(current);
    deleted.metadata.resourceVersion = String(++this.rv);
    this.emit('DELETED', t, deleted);
    return deleted;
  }

  /**
   * Changes after `resourceVersion` for a type (the watch cache), then live ones through
   * `onEvent` until the returned function is called.
   * @throws SandboxApiError 410 when `resourceVersion` is older than the cache
   */
  public watch(t: ResourceType, resourceVersion: string | undefined, onEvent: (e: StoreEvent) => void): () => void {
    const typeKey = keyOf(t);
    const from = resourceVersion && resourceVersion !== '0' ? Number(resourceVersion) : undefined;
    if (from !== undefined) {
      if (!Number.isFinite(from)) throw badRequest(`invalid resource version: ${resourceVersion}`);
      const oldest = this.log[0]?.rv;
      if (oldest !== undefined && from < oldest - 1 && this.log.length >= WATCH_CACHE) throw gone(`too old resource version: ${from} (${oldest - 1})`);
      for (const e of this.log) if (e.rv > from && e.typeKey === typeKey) onEvent(e);
    } else {
      // No resourceVersion: the current state as ADDED events, then changes (the API server's semantics).
      const rv = this.rv;
      for (const o of this.bucket(t).values()) onEvent({ type: 'ADDED', rv, typeKey, object: clone(o) });
    }
    const listener = (e: StoreEvent) => {
      if (e.typeKey === typeKey) onEvent(e);
    };
    this.watchers.add(listener);
    return () => void this.watchers.delete(listener);
  }

  /** The type the store keeps for `group/resource`. */
  public static typeOf(group: string, resource: string): ResourceType {
    const t = storedType(group, resource);
    if (!t) throw notFound(resource, group, '');
    return t;
  }
}

const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

/** Random characters from the alphabet Kubernetes uses for generated names (k8s.io/apimachinery/pkg/util/rand). */
export function randomSuffix(n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += SAFE[Math.floor(Math.random() * SAFE.length)];
  return out;
}

/** rand.SafeEncodeString: maps each character of `text` into the safe alphabet (used for pod-template-hash). */
export function safeEncode(text: string): string {
  return [...text].map((c) => SAFE[c.charCodeAt(0) % SAFE.length]).join('');
}

/** FNV-32a, the hash the deployment controller computes over a pod template. */
export function fnv32a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
