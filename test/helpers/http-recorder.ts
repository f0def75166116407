/**
 * A real HTTP server on 127.0.0.1 (random port) standing in for PagerDuty and Slack: records every
 * request and answers what the test says, so notifier tests never leave this machine.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  /** Path without the query. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The body parsed as JSON, when it is JSON. */
  readonly json?: unknown;
  /** `Date.now()` when the request arrived. */
  readonly at: number;
}

export interface Reply {
  readonly status: number;
  readonly body?: unknown;
}

export type Responder = (req: RecordedRequest) => Reply | Promise<Reply>;

/** PagerDuty's and Slack's documented success answers. */
export const defaultResponder: Responder = (req) =>
  req.path === '/v2/enqueue' ? { status: 202, body: { status: 'success', message: 'Event processed', dedup_key: (req.json as { dedup_key?: string })?.dedup_key } } : { status: 200, body: 'ok' };

export interface HttpRecorder {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Requests to one path. */
  to(path: string): RecordedRequest[];
  respond(responder: Responder): void;
  close(): Promise<void>;
}

export async function startRecorder(responder: Responder = defaultResponder): Promise<HttpRecorder> {
  let current = responder;
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      let json: unknown;
      try {
        json = body ? JSON.parse(body) : undefined;
      } catch {
        json = undefined;
      }
      const recorded: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body, json, at: Date.now() };
      requests.push(recorded);
      void Promise.resolve(current(recorded)).then((reply) => {
        const text = typeof reply.body === 'string' ? reply.body : reply.body === undefined ? '' : JSON.stringify(reply.body);
        res.writeHead(reply.status, { 'Content-Type': typeof reply.body === 'string' ? 'text/plain' : 'application/json' });
        res.end(text);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    to: (path) => requests.filter((r) => r.path === path),
    respond: (r) => {
      current = r;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
