/**
 * Admin endpoints as the policy reads them: one normal form for checking and for calling. The
 * host is recognised by identity (the service map), the path is percent-decoded once, its `.`
 * and `..` segments resolved and its duplicate slashes folded, before the allow-list and the
 * blacklist patterns look at it; the URL the agent calls is built from that same normal form,
 * so what was checked is what is called.
 */
import type { ServiceMap } from './services';

/** An endpoint in normal form. */
export interface NormalEndpoint {
  /** The URL to call: scheme, lower-case host, explicit port when not the default, normal path, query. */
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
  const service = services.identify(host).name;
  const shownPort = port === DEFAULT_PORT[scheme] ? '' : `:${port}`;
  return {
    url: `${scheme}://${host}${shownPort}${encodedPath}${url.search}`,
    scheme,
    host,
    port,
    path,
    service,
    key: `${service}:${port}${path}`,
  };
}
