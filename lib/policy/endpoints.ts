/**
 * Admin endpoints as the policy reads them: one normal form for checking and for calling. The
 * host must be a service of this cluster, recognised by identity (the service map): a bare
 * service name, or `<service>.<namespace>[.svc[.cluster.local]]` in the namespace the map gives it;
 * any other host (a foreign domain whose first label spells a service, another namespace, an IP
 * address) is refused, naming it. The path is percent-decoded once, its `.` and `..` segments
 * resolved and its duplicate slashes folded; the query is decoded once. The allow-list and the
 * blacklist patterns look at that form, and the URL the agent calls is built from it (a mapped
 * service by its cluster DNS name), so what was checked is what is called.
 */
import type { ServiceMap } from './services';

/** An endpoint in normal form. */
export interface NormalEndpoint {
  /**
   * The URL to call: scheme, the host (a mapped Kubernetes service by its cluster DNS name
   * `<service>.<namespace>.svc.cluster.local`: a bare name would resolve against the caller's own
   * namespace), explicit port when not the default, normal path, the decoded query re-encoded.
   */
  readonly url: string;
  readonly scheme: 'http' | 'https';
  /** Host as written, lower case, without a trailing dot. */
  readonly host: string;
  readonly port: number;
  /** Decoded, `..`-resolved, single-slashed path, starting with `/`. */
  readonly path: string;
  /** The service the host names (service map identity), or the host's canonical name. */
  readonly service: string;
  /** `<service>:<port><path>`: what the allow-list and the patterns match. */
  readonly key: string;
  /** The query's parameters, each decoded once, in order. */
  readonly query: readonly (readonly [string, string])[];
}

/** An endpoint the policy cannot put in normal form (bad URL, double encoding, credentials...). */
export class EndpointError extends Error {
  public constructor(
    public readonly endpoint: string,
    reason: string,
  ) {
    super(`endpoint "${endpoint}": ${reason}`);
    this.name = 'EndpointError';
  }
}

const DEFAULT_PORT = { http: 80, https: 443 } as const;

/** The DNS suffix of Kubernetes services (`<service>.<namespace>.svc.cluster.local`). */
export const CLUSTER_SERVICE_SUFFIX = 'svc.cluster.local';

/** Labels a host may carry after `<service>.<namespace>`: none, `svc`, or `svc.cluster.local`. */
const CLUSTER_SUFFIXES = new Set(['', 'svc', CLUSTER_SERVICE_SUFFIX]);

/** Still percent-encoded after one decoding: double encoding. */
const STILL_ENCODED = /%[0-9a-f]{2}/i;

/**
 * The service a host names, and the host to call for it. Only names this cluster resolves to the
 * service the map describes are taken: what a first DNS label spells proves nothing
 * (`matching-engine.attacker.example` is someone else's machine).
 * @throws EndpointError naming the host and why it is not a service of this cluster
 */
function serviceHost(endpoint: string, host: string, services: ServiceMap): { service: string; callHost: string } {
  if (host.startsWith('[') || /^\d+(\.\d+){3}$/.test(host)) {
    throw new EndpointError(endpoint, `host ${host} is an IP address: name the service (its name, or <service>.<namespace>.${CLUSTER_SERVICE_SUFFIX})`);
  }
  const [first = '', namespace, ...rest] = host.split('.');
  const id = services.identify(first);
  const entry = id.service ? services.entry(id.service) : undefined;
  const callHost = entry?.kubernetes ? `${entry.name}.${entry.namespace}.${CLUSTER_SERVICE_SUFFIX}` : host;
  if (namespace === undefined) return { service: id.name, callHost };
  if (!CLUSTER_SUFFIXES.has(rest.join('.'))) {
    throw new EndpointError(endpoint, `host ${host} is not a service of this cluster: write the service's name, or <service>.<namespace>[.svc[.cluster.local]]`);
  }
  if (!entry) throw new EndpointError(endpoint, `host ${host} names "${first}", which is not a service of playbooks/services.yaml (a namespaced name must name a mapped service)`);
  if (!entry.kubernetes) throw new EndpointError(endpoint, `host ${host}: ${entry.name} does not run on Kubernetes (playbooks/services.yaml), so it has no cluster DNS name`);
  if (namespace !== entry.namespace) throw new EndpointError(endpoint, `host ${host} names namespace ${namespace}, but ${entry.name} runs in ${entry.namespace} (playbooks/services.yaml)`);
  return { service: entry.name, callHost };
}

/** The query's parameters decoded once; what would still decode is refused (double encoding). */
function decodedQuery(endpoint: string, url: URL): [string, string][] {
  const pairs: [string, string][] = [];
  for (const [k, v] of url.searchParams) {
    for (const part of [k, v]) {
      if (STILL_ENCODED.test(part) || /[\u0000-\u001f]/.test(part)) throw new EndpointError(endpoint, `query parameter "${k}" decodes to "${part}" (double encoding or a control character)`);
    }
    pairs.push([k, v]);
  }
  return pairs;
}

/**
 * Puts an endpoint (`matching-engine:8080/admin/gc`, `http://Matching-Engine.trading.svc:8080//admin/./gc`)
 * in normal form.
 * @throws EndpointError naming the endpoint and the reason
 */
export function normaliseEndpoint(endpoint: string, services: ServiceMap): NormalEndpoint {
  const text = endpoint.trim();
  if (/[\u0000-\u001f\u007f\s\\]/.test(text)) throw new EndpointError(endpoint, 'control characters, spaces and backslashes are not allowed');
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new EndpointError(endpoint, 'not a URL');
  }
  const scheme = url.protocol.replace(/:$/, '');
  if (scheme !== 'http' && scheme !== 'https') throw new EndpointError(endpoint, `scheme ${scheme} is not allowed (http or https)`);
  if (url.username || url.password) throw new EndpointError(endpoint, 'credentials in the URL are not allowed');
  const host = url.hostname.toLowerCase().replace(/\.$/, ''); // IPv6 keeps its brackets
  if (!host) throw new EndpointError(endpoint, 'no host');
  const port = url.port ? Number(url.port) : DEFAULT_PORT[scheme];
  // URL resolves `.`/`..` and their %2e spellings; decode each segment once more so `%77ithdraw`
  // is `withdraw`, and refuse what would still decode (double encoding) or hide a separator.
  const segments: string[] = [];
  for (const raw of url.pathname.split('/')) {
    if (raw === '') continue;
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      throw new EndpointError(endpoint, `path segment "${raw}" is not valid percent-encoding`);
    }
    if (/[%/\\\u0000-\u001f]/.test(seg)) throw new EndpointError(endpoint, `path segment "${raw}" decodes to "${seg}" (double encoding or a hidden separator)`);
    if (seg === '.') continue;
    if (seg === '..') {
      segments.pop();
      continue;
    }
    segments.push(seg);
  }
  const path = `/${segments.join('/')}`;
  const encodedPath = `/${segments.map((s) => encodeURIComponent(s)).join('/')}`;
  const { service, callHost } = serviceHost(endpoint, host, services);
  const query = decodedQuery(endpoint, url);
  const search = query.length > 0 ? `?${new URLSearchParams(query).toString()}` : '';
  const shownPort = port === DEFAULT_PORT[scheme] ? '' : `:${port}`;
  return {
    url: `${scheme}://${callHost}${shownPort}${encodedPath}${search}`,
    scheme,
    host,
    port,
    path,
    service,
    key: `${service}:${port}${path}`,
    query,
  };
}

/**
 * Every text of a request the blacklist patterns must see, besides the endpoint itself: each query
 * key and value, and each key and string of the body (a JSON or form-encoded text is read as what
 * it encodes, a string decoded once), each as a path segment after the endpoint's normal key
 * (`matching-engine:8080/admin/gc/halt`), so that `*\/halt*` matches `?op=halt` and `{"op":"halt"}`.
 * @example requestTexts(normal, { op: 'halt' }) // ['matching-engine:8080/admin/gc/op', 'matching-engine:8080/admin/gc/halt']
 * @throws EndpointError for a body nested deeper than {@link MAX_BODY_DEPTH}
 */
export function requestTexts(endpoint: NormalEndpoint | undefined, body: unknown): string[] {
  const base = endpoint?.key ?? '';
  const words = [...(endpoint?.query.flat() ?? []), ...bodyWords(body, 0)];
  return [...new Set(words.filter((w) => w.length > 0).map((w) => `${base}/${w}`))];
}

/** Nesting read into a body (JSON inside strings counts); a body nested deeper is refused unread. */
export const MAX_BODY_DEPTH = 16;

function bodyWords(value: unknown, depth: number): string[] {
  if (depth > MAX_BODY_DEPTH) throw new EndpointError('(request body)', `nested deeper than ${MAX_BODY_DEPTH} levels: it is not read, so it is not sent`);
  if (typeof value === 'string') return stringWords(value, depth);
  if (Array.isArray(value)) return value.flatMap((v) => bodyWords(v, depth + 1));
  if (value !== null && typeof value === 'object') return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => [...stringWords(k, depth), ...bodyWords(v, depth + 1)]);
  return [];
}

function stringWords(text: string, depth: number): string[] {
  const decoded = safeDecode(text);
  const out = [text, decoded];
  const trimmed = decoded.trim();
  if (/^[[{]/.test(trimmed)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed) as unknown;
    } catch {
      return out; // not JSON: the text itself was kept
    }
    // Outside the try: JSON nested too deep is refused, never taken for plain text.
    out.push(...bodyWords(parsed, depth + 1));
  } else if (/^[^\s=&]+=/.test(text)) {
    for (const [k, v] of new URLSearchParams(text)) out.push(k, v);
  }
  return out;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}
