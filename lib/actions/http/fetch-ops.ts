/**
 * HttpOps for api_call's admin endpoints: fetch with a timeout, redirects never followed (a 3xx is
 * returned as the answer: the allow-list checked the URL asked for, not where it points), the
 * response body recorded up to a limit.
 */
import { TransientTargetError } from '../errors';
import type { HttpOps } from '../ports';

export interface FetchHttpOptions {
  /** @default 10000 */
  readonly timeoutMs?: number;
  /** Characters of the response body kept. @default 4096 */
  readonly maxBody?: number;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

export class FetchHttp implements HttpOps {
  public constructor(private readonly o: FetchHttpOptions = {}) {}

  public async request(method: string, url: string, body?: unknown): Promise<{ status: number; body: string; truncated?: boolean }> {
    const timeoutMs = this.o.timeoutMs ?? 10_000;
    let res: Response;
    try {
      res = await (this.o.fetch ?? fetch)(url, {
        method,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
        headers: { 'content-type': 'application/json', 'user-agent': 'sre-agent' },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      throw new TransientTargetError(`api_call: ${method} ${url} ${timedOut ? `timed out after ${timeoutMs} ms` : `failed: ${(err as Error).message}`}`, { target: url, cause: err });
    }
    const text = await res.text();
    const max = this.o.maxBody ?? 4096;
    return { status: res.status, body: text.slice(0, max), ...(text.length > max ? { truncated: true } : {}) };
  }
}
