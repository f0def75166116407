/**
 * The sandbox's HTTP face: the Kubernetes REST API subset a real API server serves, on 127.0.0.1,
 * for kubectl and @kubernetes/client-node alike — discovery (/version, /api, /apis, APIResourceLists),
 * get/list/watch/create/update/patch/delete with Status objects for failures, the scale and status
 * subresources, dryRun=All, Table responses, pods/exec over the v5/v4 channel.k8s.io websocket
 * protocols, pods/log, and the metrics.k8s.io API. Every response carries
 * `X-Sre-Agent-Sandbox`, so nobody mistakes it for a cluster.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import * as yaml from 'js-yaml';
import { WebSocketServer, type WebSocket } from 'ws';
import { formatCpu } from '../../actions/quantity';
import type { ServiceMap } from '../../policy/services';
import { selfSignedCertificate } from './certs';
import { KubeCluster, TYPES, type ClusterTiming } from './cluster';
import { badRequest, methodNotAllowed, notFound, SandboxApiError, unauthorized, unsupportedMediaType, conflict } from './errors';
import { applyPatch, patchTypeOf } from './patch';
import { apiGroups, apiResourceList, apiVersionOf, openApiV3Document, openApiV3Root, resourceType, storedType, type ResourceType } from './resources';
import { labelSelectorText, ObjectStore, type KubeObject, type StoreEvent } from './store';
import { toTable, wantsTable } from './tables';
import { validateObject, validateScale } from './validation';
import type { Scene } from './scene';

/** The header every response carries. */
export const SANDBOX_HEADER = 'X-Sre-Agent-Sandbox';
export const SANDBOX_HEADER_VALUE = 'sre-agent Kubernetes API sandbox (lib/sandbox/kube): simulated cluster for drills and tests, not a real cluster';

/** What /version answers: a 1.31 server, as EKS runs, marked as the sandbox. */
export const SANDBOX_VERSION = {
  major: '1',
  minor: '31',
  gitVersion: 'v1.31.4-sre-agent-sandbox',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.22.10',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export interface KubeSandboxOptions {
  /** @default 0 (any free port) */
  readonly port?: number;
  /** The service map the default scene is built from. */
  readonly services?: ServiceMap;
  /** A scene instead of the exchange built from `services`. */
  readonly scene?: Scene;
  readonly timing?: ClusterTiming;
  /**
   * Bearer token clients must send; requests without it get 401, as from a real server.
   * @default a random token, written into the kubeconfig
   */
  readonly token?: string;
  /**
   * Decides bearer tokens other than `token` (e.g. EKS-style `k8s-aws-v1.` tokens in tests of the
   * EKS path). @default - only `token` is accepted
   */
  authenticate?(token: string): boolean;
  /** Namespace of the kubeconfig's context. @default 'default' */
  readonly namespace?: string;
  /**
   * How many requests `requests` keeps (the newest): a sandbox behind a long `npm start` session
   * must not grow without bound. @default 10,000
   */
  readonly requestLogLimit?: number;
  now?(): Date;
}

/** KubeSandboxOptions.requestLogLimit's default. */
export const REQUEST_LOG_LIMIT = 10_000;

function checkRequestLogLimit(limit: number): void {
  if (!(Number.isInteger(limit) && limit > 0)) throw new RangeError(`requestLogLimit must be a positive integer, got ${limit}`);
}

export interface KubeSandbox {
  /** `https://127.0.0.1:<port>`: client-go sends bearer tokens only over TLS, so the sandbox serves TLS. */
  readonly url: string;
  /** PEM of the sandbox's serving certificate, which is its own CA (the kubeconfig's certificate-authority-data). */
  readonly ca: string;
  readonly port: number;
  readonly token: string;
  readonly cluster: KubeCluster;
  /** A kubeconfig for this sandbox (YAML). */
  kubeconfig(namespace?: string): string;
  /** Writes the kubeconfig to `file` (mode 0600, as kubectl writes its own). */
  writeKubeconfig(file: string, namespace?: string): void;
  /**
   * The requests, in order, the newest `requestLogLimit` of them (tests: what a client really
   * called, with what body, and the answer).
   */
  readonly requests: SandboxRequest[];
  /**
   * Makes the next `count` writes (PUT/PATCH) to `path` fail with 409 Conflict whatever they carry
   * (tests of a client's retry loop; `beforeWrite` makes a real one).
   */
  injectConflicts(path: string, count: number): void;
  /**
   * Runs `hook` just before the next `times` writes (PUT/PATCH, dry runs included) to `path` are
   * applied: another writer changing the object between a client's read and its write, so a
   * write carrying the resourceVersion it read meets the real precondition (409).
   * @default times 1
   */
  beforeWrite(path: string, hook: (write: SandboxWrite) => void, times?: number): void;
  /**
   * Runs `hook` when the next exec upgrade has been asked for, before it looks its pod up: a pod
   * deleted between a client's choice of it and its exec.
   */
  beforeExec(hook: (pod: { namespace: string; name: string }) => void): void;
  close(): Promise<void>;
}

/** One request as the sandbox saw it. */
export interface SandboxRequest {
  readonly method: string;
  /** The path without the query. */
  readonly path: string;
  /** `?…` or ''. */
  readonly query: string;
  readonly contentType?: string;
  /** The request body, parsed (JSON or YAML; the text when it is neither). */
  body?: unknown;
  /** The HTTP status answered. */
  code?: number;
}

/** A write about to be applied (what `beforeWrite` hooks see). */
export interface SandboxWrite {
  readonly method: string;
  readonly path: string;
  readonly dryRun: boolean;
  readonly body: unknown;
}

interface WriteHook {
  readonly hook: (write: SandboxWrite) => void;
  left: number;
}

interface Route {
  readonly type: ResourceType;
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: string;
}

/** Parses `/api/v1/...` and `/apis/<group>/<version>/...` resource paths. */
function route(path: string): Route | undefined {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    version = parts[1] as string;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1] as string;
    version = parts[2] as string;
    rest = parts.slice(3);
  } else return undefined;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource, name, subresource] = rest as [string, string | undefined, string | undefined];
  const type = resourceType(group, version, resource);
  if (!type) return undefined;
  return { type, ...(namespace ? { namespace } : {}), ...(name ? { name } : {}), ...(subresource ? { subresource } : {}) };
}

async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A request body as the API server decodes it (JSON, else YAML). */
function parseBody(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    try {
      return yaml.load(text);
    } catch (err) {
      throw badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
    }
  }
}

function withoutTypeMeta(o: KubeObject): Omit<KubeObject, 'apiVersion' | 'kind'> {
  const { apiVersion: _a, kind: _k, ...rest } = o;
  return rest;
}

const HAS_STATUS = new Set(['Deployment', 'ReplicaSet', 'HorizontalPodAutoscaler', 'Pod']);

export class SandboxHttpApi {
  private readonly cluster: KubeCluster;
  private readonly store: ObjectStore;
  private readonly token: string;
  public readonly requests: SandboxRequest[] = [];
  private readonly conflicts = new Map<string, number>();
  private readonly writeHooks = new Map<string, WriteHook>();
  private execHook?: (pod: { namespace: string; name: string }) => void;
  private readonly watches = new Set<ServerResponse>();
  private readonly sockets = new Set<WebSocket>();
  private readonly wss = new WebSocketServer({
    noServer: true,
    // The remote command protocols kubectl (v5 first) and client-node speak; v5 adds the close signal.
    handleProtocols: (protocols) => (protocols.has('v5.channel.k8s.io') ? 'v5.channel.k8s.io' : protocols.has('v4.channel.k8s.io') ? 'v4.channel.k8s.io' : false),
  });

  private readonly authenticate?: (token: string) => boolean;

  public constructor(
    cluster: KubeCluster,
    token: string,
    authenticate?: (token: string) => boolean,
    private readonly requestLogLimit: number = REQUEST_LOG_LIMIT,
  ) {
    checkRequestLogLimit(requestLogLimit);
    this.cluster = cluster;
    this.store = cluster.store;
    this.token = token;
    this.authenticate = authenticate;
  }

  /** Logs a request, dropping the oldest beyond the limit. */
  private logRequest(entry: SandboxRequest): void {
    this.requests.push(entry);
    if (this.requests.length > this.requestLogLimit) this.requests.splice(0, this.requests.length - this.requestLogLimit);
  }

  public injectConflicts(path: string, count: number): void {
    this.conflicts.set(path, count);
  }

  public beforeWrite(path: string, hook: (write: SandboxWrite) => void, times = 1): void {
    this.writeHooks.set(path, { hook, left: times });
  }

  public beforeExec(hook: (pod: { namespace: string; name: string }) => void): void {
    this.execHook = hook;
  }

  /** Runs (and counts down) the write hook of this path. */
  private runWriteHook(write: SandboxWrite): void {
    const h = this.writeHooks.get(write.path);
    if (!h || h.left <= 0) return;
    h.left -= 1;
    h.hook(write);
  }

  private authorised(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? '';
    if (header === `Bearer ${this.token}`) return true;
    return header.startsWith('Bearer ') && this.authenticate?.(header.slice('Bearer '.length)) === true;
  }

  private send(res: ServerResponse, code: number, payload: unknown, contentType = 'application/json'): void {
    const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
    res.writeHead(code, { 'Content-Type': contentType, [SANDBOX_HEADER]: SANDBOX_HEADER_VALUE, 'Audit-Id': randomUUID(), 'Cache-Control': 'no-cache, private' });
    res.end(text);
  }

  private fail(res: ServerResponse, err: unknown): void {
    if (err instanceof SandboxApiError) {
      this.send(res, err.code, err.toStatus());
      return;
    }
    const e = new SandboxApiError(500, 'InternalError', `Internal error occurred: ${(err as Error).message}`);
    this.send(res, 500, e.toStatus());
  }

  public async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const entry: SandboxRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.search, ...(req.headers['content-type'] ? { contentType: req.headers['content-type'] } : {}) };
    this.logRequest(entry);
    res.on('finish', () => {
      entry.code = res.statusCode;
    });
    try {
      if (!this.authorised(req)) throw unauthorized();
      const text = await readText(req);
      if (text) {
        try {
          entry.body = parseBody(text);
        } catch {
          entry.body = text;
        }
      }
      if (this.discovery(url.pathname, res)) return;
      const r = route(url.pathname);
      if (!r) throw new SandboxApiError(404, 'NotFound', 'the server could not find the requested resource', {});
      await this.resource(req, res, r, url.searchParams, text);
    } catch (err) {
      this.fail(res, err);
    }
  }

  private discovery(path: string, res: ServerResponse): boolean {
    const p = path.replace(/\/+$/, '') || '/';
    if (p === '/version') return this.send(res, 200, SANDBOX_VERSION), true;
    if (p === '/healthz' || p === '/livez' || p === '/readyz') return this.send(res, 200, 'ok', 'text/plain; charset=utf-8'), true;
    if (p === '/openapi/v3') return this.send(res, 200, openApiV3Root()), true;
    if (p.startsWith('/openapi/v3/')) {
      const doc = openApiV3Document(p.slice('/openapi/v3/'.length));
      if (!doc) throw new SandboxApiError(404, 'NotFound', 'the server could not find the requested resource', {});
      return this.send(res, 200, doc), true;
    }
    if (p === '/api') return this.send(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:443' }] }), true;
    if (p === '/apis') {
      const groups = apiGroups().map((g) => ({ name: g.name, versions: g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v })), preferredVersion: { groupVersion: `${g.name}/${g.versions[0]}`, version: g.versions[0] } }));
      return this.send(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups }), true;
    }
    const core = /^\/api\/(v1)$/.exec(p);
    const grouped = /^\/apis\/([^/]+)\/([^/]+)$/.exec(p);
    if (core || grouped) {
      const list = core ? apiResourceList('', 'v1') : apiResourceList(grouped?.[1] as string, grouped?.[2] as string);
      if (!list) throw new SandboxApiError(404, 'NotFound', 'the server could not find the requested resource', {});
      return this.send(res, 200, list), true;
    }
    const group = /^\/apis\/([^/]+)$/.exec(p);
    if (group) {
      const g = apiGroups().find((x) => x.name === group[1]);
      if (!g) throw new SandboxApiError(404, 'NotFound', 'the server could not find the requested resource', {});
      return this.send(res, 200, { kind: 'APIGroup', apiVersion: 'v1', name: g.name, versions: g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v })), preferredVersion: { groupVersion: `${g.name}/${g.versions[0]}`, version: g.versions[0] } }), true;
    }
    return false;
  }

  private stored(r: Route): ResourceType {
    const t = storedType(r.type.group, r.type.resource);
    if (!t) throw notFound(r.type.resource, r.type.group, r.name ?? '');
    return t;
  }

  private namespaceMustExist(r: Route): void {
    if (r.type.namespaced && r.namespace && !this.store.find(TYPES.namespaces, undefined, r.namespace)) throw notFound('namespaces', '', r.namespace);
  }

  /** Counts down an injected conflict for this path. */
  private injectedConflict(path: string, r: Route): void {
    const left = this.conflicts.get(path) ?? 0;
    if (left > 0) {
      this.conflicts.set(path, left - 1);
      throw conflict(r.type.resource, r.type.group, r.name ?? '');
    }
  }

  private async resource(req: IncomingMessage, res: ServerResponse, r: Route, q: URLSearchParams, text: string): Promise<void> {
    const method = req.method ?? 'GET';
    const dryRun = q.getAll('dryRun').includes('All');
    if (q.getAll('dryRun').some((v) => v !== 'All')) throw badRequest(`Invalid dryRun value: ${q.getAll('dryRun').join(',')}; only "All" is supported`);
    if (r.type.group === 'metrics.k8s.io') return this.metrics(res, r, q);
    if (r.subresource === 'log' && method === 'GET') return this.log(res, r, q);
    if (r.subresource === 'scale') return this.scale(req, res, r, dryRun, text);
    if (r.subresource && r.subresource !== 'status') throw new SandboxApiError(404, 'NotFound', 'the server could not find the requested resource', {});
    const t = this.stored(r);
    const table = wantsTable(req.headers.accept);
    if (method === 'GET' && !r.name) {
      if (q.get('watch') === 'true' || q.get('watch') === '1') return this.watch(req, res, t, r, q);
      const items = this.store.list(t, { namespace: r.namespace, labelSelector: q.get('labelSelector') ?? undefined, fieldSelector: q.get('fieldSelector') ?? undefined });
      const rv = this.store.resourceVersion;
      if (table) return this.send(res, 200, toTable(t.kind, items, rv, this.cluster.now().getTime(), q.get('includeObject') ?? undefined));
      return this.send(res, 200, { kind: `${t.kind}List`, apiVersion: apiVersionOf(t), metadata: { resourceVersion: rv }, items: items.map(withoutTypeMeta) });
    }
    if (method === 'GET') {
      const obj = this.store.get(t, r.namespace, r.name as string);
      if (table) return this.send(res, 200, toTable(t.kind, [obj], obj.metadata.resourceVersion ?? '', this.cluster.now().getTime(), q.get('includeObject') ?? undefined));
      return this.send(res, 200, obj);
    }
    const path = new URL(req.url ?? '/', 'http://sandbox').pathname;
    if (method === 'POST' && !r.name) {
      this.namespaceMustExist(r);
      const input = parseBody(text) as KubeObject;
      if (!input || typeof input !== 'object') throw badRequest('the request body is empty');
      const obj = this.defaults(t, { ...input, apiVersion: apiVersionOf(t), kind: t.kind, metadata: { ...input.metadata, ...(t.namespaced ? { namespace: r.namespace ?? input.metadata?.namespace ?? 'default' } : {}) } });
      validateObject(obj);
      const created = this.store.create(t, obj, { dryRun });
      return this.send(res, 201, created);
    }
    if (method === 'PUT' && r.name) {
      this.injectedConflict(path, r);
      const input = parseBody(text) as KubeObject;
      this.runWriteHook({ method, path, dryRun, body: input });
      const current = this.store.get(t, r.namespace, r.name);
      const next = this.keepServerFields(t, r, current, { ...input, apiVersion: apiVersionOf(t), kind: t.kind });
      validateObject(next, current);
      return this.send(res, 200, this.store.update(t, next, { dryRun }));
    }
    if (method === 'PATCH' && r.name) {
      this.injectedConflict(path, r);
      const type = patchTypeOf(req.headers['content-type']);
      if (!type || type === 'apply') throw unsupportedMediaType(req.headers['content-type'] ?? '');
      const patch = parseBody(text);
      this.runWriteHook({ method, path, dryRun, body: patch });
      const current = this.store.get(t, r.namespace, r.name);
      const patched = applyPatch(type, current, patch) as KubeObject;
      if (!patched || typeof patched !== 'object' || !patched.metadata) throw badRequest('the patch removed the object metadata');
      // A resourceVersion in the patch is a precondition, as on the real server.
      if (patched.metadata.resourceVersion && patched.metadata.resourceVersion !== current.metadata.resourceVersion) throw conflict(t.resource, t.group, r.name);
      const next = this.keepServerFields(t, r, current, { ...patched, metadata: { ...patched.metadata, resourceVersion: current.metadata.resourceVersion } });
      validateObject(next, current);
      return this.send(res, 200, this.store.update(t, next, { dryRun }));
    }
    if (method === 'DELETE' && r.name) return this.remove(res, t, r, dryRun);
    throw methodNotAllowed();
  }

  /** Status is written only through /status, spec only through the main resource; identity stays the server's. */
  private keepServerFields(t: ResourceType, r: Route, current: KubeObject, next: KubeObject): KubeObject {
    const out = { ...next, metadata: { ...next.metadata, name: r.name as string, ...(t.namespaced ? { namespace: r.namespace } : {}) } };
    if (!HAS_STATUS.has(t.kind)) return out;
    if (r.subresource === 'status') return { ...current, metadata: { ...current.metadata, resourceVersion: next.metadata.resourceVersion }, status: next.status };
    return { ...out, status: current.status };
  }

  /** The defaults the API server fills in on create (pkg/apis/apps/v1/defaults.go). */
  private defaults(t: ResourceType, obj: KubeObject): KubeObject {
    if (t.kind === 'Deployment') {
      obj.spec = {
        replicas: 1,
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
        ...obj.spec,
        strategy: obj.spec?.strategy?.type === 'Recreate' ? { type: 'Recreate' } : { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%', ...obj.spec?.strategy?.rollingUpdate } },
      };
    }
    if (t.kind === 'Secret') obj.type ??= 'Opaque';
    if (t.kind === 'Namespace') obj.status = { phase: 'Active' };
    return obj;
  }

  private remove(res: ServerResponse, t: ResourceType, r: Route, dryRun: boolean): void {
    const current = this.store.get(t, r.namespace, r.name as string);
    if (t.kind === 'Pod' && !dryRun) {
      // Graceful deletion: the pod turns Terminating and the ReplicaSet replaces it.
      const marked = this.cluster.markPodDeleted(current);
      return this.send(res, 200, marked);
    }
    if (dryRun) return this.send(res, 200, current);
    this.store.delete(t, r.namespace, r.name as string);
    this.send(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: r.name, ...(t.group ? { group: t.group } : {}), kind: t.resource, uid: current.metadata.uid } });
  }

  /** The Scale subresource of deployments and replicasets (autoscaling/v1 Scale). */
  private async scale(req: IncomingMessage, res: ServerResponse, r: Route, dryRun: boolean, text: string): Promise<void> {
    const t = this.stored(r);
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://sandbox').pathname;
    const input = method === 'PUT' || method === 'PATCH' ? parseBody(text) : undefined;
    if (method === 'PUT' || method === 'PATCH') {
      this.injectedConflict(path, r);
      this.runWriteHook({ method, path, dryRun, body: input });
    }
    const current = this.store.get(t, r.namespace, r.name as string);
    const scaleOf = (o: KubeObject) => ({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name: o.metadata.name, namespace: o.metadata.namespace, uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion, creationTimestamp: o.metadata.creationTimestamp },
      spec: { replicas: o.spec?.replicas ?? 1 },
      status: { replicas: o.status?.replicas ?? 0, selector: labelSelectorText(o.spec?.selector) },
    });
    if (method === 'GET') return this.send(res, 200, scaleOf(current));
    if (method !== 'PUT' && method !== 'PATCH') throw methodNotAllowed();
    let next: { metadata?: { resourceVersion?: string }; spec?: { replicas?: number } };
    if (method === 'PUT') next = input as typeof next;
    else {
      const type = patchTypeOf(req.headers['content-type']);
      if (!type || type === 'apply') throw unsupportedMediaType(req.headers['content-type'] ?? '');
      next = applyPatch(type, scaleOf(current), input) as typeof next;
    }
    if (next.metadata?.resourceVersion && next.metadata.resourceVersion !== current.metadata.resourceVersion) throw conflict(t.resource, t.group, r.name as string);
    validateScale(r.name as string, next.spec?.replicas);
    const updated = this.store.update(t, { ...current, spec: { ...current.spec, replicas: next.spec?.replicas } }, { dryRun });
    this.send(res, 200, scaleOf(updated));
  }

  private watch(req: IncomingMessage, res: ServerResponse, t: ResourceType, r: Route, q: URLSearchParams): void {
    const matches = this.store.matcher(t, { namespace: r.namespace, labelSelector: q.get('labelSelector') ?? undefined, fieldSelector: q.get('fieldSelector') ?? undefined });
    const timeout = Math.min(Number(q.get('timeoutSeconds') ?? 1800) || 1800, 3600);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', [SANDBOX_HEADER]: SANDBOX_HEADER_VALUE, 'Cache-Control': 'no-cache, private' });
    // Send the headers now, as the API server does: a client waiting for them (kubectl's informers
    // call Watch with a context that is never cancelled) would otherwise hang until the first event.
    res.flushHeaders();
    this.watches.add(res);
    const write = (e: StoreEvent) => {
      if (!matches(e.object)) return;
      res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
    };
    let stop: () => void = () => undefined;
    try {
      stop = this.store.watch(t, q.get('resourceVersion') ?? undefined, write);
    } catch (err) {
      // A watch that cannot start answers with an ERROR event carrying the Status (410 Gone).
      res.end(`${JSON.stringify({ type: 'ERROR', object: err instanceof SandboxApiError ? err.toStatus() : { message: String(err) } })}\n`);
      this.watches.delete(res);
      return;
    }
    const timer = setTimeout(() => res.end(), timeout * 1000);
    timer.unref();
    const end = () => {
      clearTimeout(timer);
      stop();
      this.watches.delete(res);
    };
    req.on('close', end);
    res.on('close', end);
  }

  private metrics(res: ServerResponse, r: Route, q: URLSearchParams): void {
    const now = this.cluster.now().toISOString().replace(/\.\d{3}Z$/, 'Z');
    if (r.type.resource === 'pods') {
      const pods = r.name ? [this.store.get(TYPES.pods, r.namespace, r.name)] : this.store.list(TYPES.pods, { namespace: r.namespace, labelSelector: q.get('labelSelector') ?? undefined });
      const items = pods
        .filter((p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp)
        .map((p) => ({
          metadata: { name: p.metadata.name, namespace: p.metadata.namespace, creationTimestamp: now, labels: p.metadata.labels },
          timestamp: now,
          window: '15.01s',
          containers: p.spec.containers.map((c: { name: string }) => {
            const u = this.cluster.usage(p, c.name);
            return { name: c.name, usage: { cpu: `${Math.round(u.cpu * 1e9)}n`, memory: `${Math.round(u.memory / 1024)}Ki` } };
          }),
        }));
      if (r.name) return this.send(res, 200, { kind: 'PodMetrics', apiVersion: 'metrics.k8s.io/v1beta1', ...items[0] });
      return this.send(res, 200, { kind: 'PodMetricsList', apiVersion: 'metrics.k8s.io/v1beta1', metadata: {}, items });
    }
    const nodes = r.name ? [this.store.get(TYPES.nodes, undefined, r.name)] : this.store.list(TYPES.nodes, { labelSelector: q.get('labelSelector') ?? undefined });
    const pods = this.store.list(TYPES.pods);
    const items = nodes.map((n) => {
      const on = pods.filter((p) => p.spec?.nodeName === n.metadata.name && p.status?.phase === 'Running');
      const cpu = on.reduce((s, p) => s + p.spec.containers.reduce((x: number, c: { name: string }) => x + this.cluster.usage(p, c.name).cpu, 0), 0.35);
      const mem = on.reduce((s, p) => s + p.spec.containers.reduce((x: number, c: { name: string }) => x + this.cluster.usage(p, c.name).memory, 0), 1.2 * 2 ** 30);
      return { metadata: { name: n.metadata.name, creationTimestamp: now, labels: n.metadata.labels }, timestamp: now, window: '20.03s', usage: { cpu: formatCpu(Math.round(cpu * 1000) / 1000), memory: `${Math.round(mem / 1024)}Ki` } };
    });
    if (r.name) return this.send(res, 200, { kind: 'NodeMetrics', apiVersion: 'metrics.k8s.io/v1beta1', ...items[0] });
    this.send(res, 200, { kind: 'NodeMetricsList', apiVersion: 'metrics.k8s.io/v1beta1', metadata: {}, items });
  }

  private log(res: ServerResponse, r: Route, q: URLSearchParams): void {
    const pod = this.store.get(TYPES.pods, r.namespace, r.name as string);
    const container = q.get('container') ?? pod.spec.containers[0]?.name;
    const status = pod.status?.containerStatuses?.find((s: { name: string }) => s.name === container);
    const previous = q.get('previous') === 'true';
    if (previous && !status?.lastState?.terminated) throw badRequest(`previous terminated container "${container}" in pod "${pod.metadata.name}" not found`);
    const lines = previous && status?.lastState?.terminated?.reason === 'OOMKilled'
      ? ['WARN  c.e.o.OrderCache - cache size 1843200 entries, evicting', 'ERROR c.e.Application - java.lang.OutOfMemoryError: Java heap space']
      : [`INFO  c.e.Application - Started ${container} in 11.482 seconds (process running for 12.1)`, 'INFO  c.e.h.Health - readiness probe OK'];
    const tail = Number(q.get('tailLines') ?? lines.length);
    this.send(res, 200, `${lines.slice(-tail).join('\n')}\n`, 'text/plain');
  }

  /** pods/exec: the websocket upgrade (kubectl ≥ 1.30 and client-node use websockets, v5 then v4). */
  public upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    this.logRequest({ method: `${req.method ?? 'GET'} (upgrade)`, path: url.pathname, query: url.search });
    const refuse = (err: SandboxApiError) => {
      const text = JSON.stringify(err.toStatus());
      socket.end(`HTTP/1.1 ${err.code} ${err.reason}\r\nContent-Type: application/json\r\n${SANDBOX_HEADER}: ${SANDBOX_HEADER_VALUE}\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
    };
    try {
      if (!this.authorised(req)) throw unauthorized();
      const r = route(url.pathname);
      if (!r || r.type.resource !== 'pods' || r.subresource !== 'exec' || !r.name || !r.namespace) throw badRequest(`upgrade is only served for pods/exec, not ${url.pathname}`);
      const q = url.searchParams;
      const command = q.getAll('command');
      if (command.length === 0) throw badRequest('you must specify at least 1 command');
      const container = q.get('container') ?? undefined;
      const hook = this.execHook;
      this.execHook = undefined;
      hook?.({ namespace: r.namespace, name: r.name });
      const pod = this.store.get(TYPES.pods, r.namespace, r.name);
      // Checked before the upgrade, as the kubelet does: a missing container is a 400, not a stream.
      const name = container ?? pod.spec.containers[0]?.name;
      if (!pod.spec.containers.some((c: { name: string }) => c.name === name)) throw badRequest(`container ${name} is not valid for pod ${r.name}`);
      const status = pod.status?.containerStatuses?.find((s: { name: string }) => s.name === name);
      if (!status?.state?.running) throw badRequest(`container not found ("${name}")`);
      const protocols = String(req.headers['sec-websocket-protocol'] ?? '');
      if (!/v[45]\.channel\.k8s\.io/.test(protocols)) throw badRequest(`unsupported remote command protocols: ${protocols || '(none)'}; the sandbox speaks v5.channel.k8s.io and v4.channel.k8s.io`);
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.sockets.add(ws);
        ws.on('close', () => this.sockets.delete(ws));
        ws.on('error', () => undefined);
        // Let the client see the open before output arrives.
        setImmediate(() => this.runExec(ws, r.namespace as string, r.name as string, container, command, { stdout: q.get('stdout') !== 'false', stderr: q.get('stderr') !== 'false' }));
      });
    } catch (err) {
      refuse(err instanceof SandboxApiError ? err : new SandboxApiError(500, 'InternalError', String(err)));
    }
  }

  private runExec(ws: WebSocket, namespace: string, pod: string, container: string | undefined, command: string[], streams: { stdout: boolean; stderr: boolean }): void {
    const frame = (channel: number, data: string) => ws.send(Buffer.concat([Buffer.from([channel]), Buffer.from(data, 'utf8')]));
    let status: Record<string, unknown>;
    try {
      const out = this.cluster.exec(namespace, pod, container, command);
      if (streams.stdout && out.stdout) frame(1, out.stdout);
      if (streams.stderr && out.stderr) frame(2, out.stderr);
      if (out.runtimeError) status = { metadata: {}, status: 'Failure', message: `Internal error occurred: ${out.runtimeError}`, reason: 'InternalError', details: { causes: [{ message: out.runtimeError }] }, code: 500 };
      else if (out.exitCode !== 0) {
        // The kubelet's status for a non-zero exit (k8s.io/kubelet cri streaming remotecommand).
        status = { metadata: {}, status: 'Failure', message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${out.exitCode}`, reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: String(out.exitCode) }] } };
      } else status = { metadata: {}, status: 'Success' };
    } catch (err) {
      const e = err instanceof SandboxApiError ? err : new SandboxApiError(500, 'InternalError', String(err));
      status = { ...e.toStatus(), kind: undefined, apiVersion: undefined };
    }
    frame(3, JSON.stringify(status));
    ws.close(1000);
  }

  public close(): void {
    for (const w of this.watches) w.end();
    for (const s of this.sockets) s.terminate();
    this.wss.close();
  }
}

/** Serves a sandbox cluster on 127.0.0.1 and starts its controllers. */
export async function startKubeSandbox(options: KubeSandboxOptions = {}): Promise<KubeSandbox> {
  checkRequestLogLimit(options.requestLogLimit ?? REQUEST_LOG_LIMIT); // before the cluster's timers start
  const cluster = new KubeCluster({ services: options.services, scene: options.scene, timing: options.timing, now: options.now }).start();
  const token = options.token ?? randomBytes(24).toString('base64url');
  const api = new SandboxHttpApi(cluster, token, options.authenticate, options.requestLogLimit);
  const now = Date.now();
  const tls = selfSignedCertificate({ commonName: 'sre-agent-sandbox', dnsNames: ['localhost', 'kubernetes', 'kubernetes.default.svc'], ipAddresses: ['127.0.0.1'], notBefore: new Date(now - 3600e3), notAfter: new Date(now + 365 * 86400e3), ca: true });
  const server: Server = createServer({ key: tls.key, cert: tls.certificate }, (req, res) => void api.handle(req, res));
  server.on('upgrade', (req, socket, head) => api.upgrade(req, socket as Socket, head));
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `https://127.0.0.1:${port}`;
  const kubeconfig = (namespace = options.namespace ?? 'default') =>
    yaml.dump({
      apiVersion: 'v1',
      kind: 'Config',
      preferences: {},
      clusters: [{ name: 'sre-agent-sandbox', cluster: { server: url, 'certificate-authority-data': Buffer.from(tls.certificate).toString('base64') } }],
      users: [{ name: 'sre-agent-sandbox', user: { token } }],
      contexts: [{ name: 'sre-agent-sandbox', context: { cluster: 'sre-agent-sandbox', user: 'sre-agent-sandbox', namespace } }],
      'current-context': 'sre-agent-sandbox',
    });
  return {
    url,
    ca: tls.certificate,
    port,
    token,
    cluster,
    kubeconfig,
    writeKubeconfig: (file, namespace) => writeFileSync(file, kubeconfig(namespace), { mode: 0o600 }),
    requests: api.requests,
    injectConflicts: (path, count) => api.injectConflicts(path, count),
    beforeWrite: (path, hook, times) => api.beforeWrite(path, hook, times),
    beforeExec: (hook) => api.beforeExec(hook),
    close: async () => {
      cluster.stop();
      api.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
