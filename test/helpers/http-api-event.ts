/**
 * HTTP API (payload 2.0) events for the approval page as API Gateway delivers them to the
 * approval-callback Lambda, and the hidden fields of the page's form.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/** The API's default domain in the tests (`https://<this>/approvals/...`). */
export const API_DOMAIN = 'abc123.execute-api.us-east-1.amazonaws.com';

export interface ApprovalEventOptions {
  /** The body as API Gateway passes a binary one. */
  readonly base64?: boolean;
  /** @default application/x-www-form-urlencoded on POST */
  readonly contentType?: string;
  /** Headers the browser adds (origin, sec-fetch-site...), over the defaults. */
  readonly headers?: Record<string, string>;
}

/** The event of a link (GET) or of its form (POST), as a phone's browser sends it. */
export function approvalPageEvent(url: string, method: 'GET' | 'POST', body?: string, options: ApprovalEventOptions = {}): APIGatewayProxyEventV2 {
  const u = new URL(url);
  const agent = 'Mozilla/5.0 (iPhone)';
  return {
    version: '2.0',
    routeKey: `${method} /approvals/{id}`,
    rawPath: u.pathname,
    rawQueryString: u.search.slice(1),
    headers: { 'user-agent': agent, ...(method === 'POST' ? { 'content-type': options.contentType ?? 'application/x-www-form-urlencoded' } : {}), ...options.headers },
    queryStringParameters: Object.fromEntries(u.searchParams),
    pathParameters: { id: decodeURIComponent(u.pathname.split('/').at(-1) ?? '') },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: API_DOMAIN,
      domainPrefix: 'abc123',
      http: { method, path: u.pathname, protocol: 'HTTP/1.1', sourceIp: '198.51.100.23', userAgent: agent },
      requestId: 'req-1',
      routeKey: `${method} /approvals/{id}`,
      stage: '$default',
      time: '09/Feb/2026:14:18:00 +0000',
      timeEpoch: Date.parse('2026-02-09T14:18:00Z'),
    },
    ...(body !== undefined ? { body: options.base64 ? Buffer.from(body).toString('base64') : body, isBase64Encoded: Boolean(options.base64) } : { isBase64Encoded: false }),
  };
}

/** The hidden fields of the confirmation page's form, as the browser posts them. */
export function formOf(html: string): string {
  const form = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) form.append(m[1]!, m[2]!.replace(/&amp;/g, '&'));
  return form.toString();
}
