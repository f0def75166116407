/**
 * approval-callback Lambda behind the HTTP API (`GET|POST /approvals/{id}`, payload format 2.0):
 * the signed-link approval page. GET confirms, POST decides and answers the waiting task token
 * with SendTaskSuccess / SendTaskFailure. Wiring only; the logic is lib/approval/callback.ts.
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { approvalDecisionMetrics, emitAgentMetrics, powertoolsSink } from '../lib/runtime/agent-metrics';
import { approvalPage, formPostRefusal, PAGE_HEADERS, type ApprovalPageDeps } from '../lib/approval/callback';
import { secretsManagerKey } from '../lib/approval/links';
import { appendEvent } from '../lib/incident';
import { approvalCallbackEnvironmentSchema } from '../lib/runtime/environment';
import { awsData, awsOnCall, awsSecretsManager, awsStatusPage } from '../lib/runtime/aws';
import { onNoticeDecided, type StatusNoticeDeps } from '../lib/runtime/status-notice';
import { lazyClient } from '../lib/runtime/lazy-sdk';

const logger = new Logger({ serviceName: 'sre-agent', persistentKeys: { function: 'approval-callback' } });
const env = approvalCallbackEnvironmentSchema.parse(process.env);
// Loaded at their first call, not at cold start: Secrets Manager when a page first checks a link's
// signature (the function's one client, which the PagerDuty roster reads its key with too), Step
// Functions when a decision first answers a task.
const sfn = lazyClient<SFNClient>(async () => new (await import('@aws-sdk/client-sfn')).SFNClient({}));
const key = secretsManagerKey(awsSecretsManager(), env.SIGNING_SECRET_ID);

function html(statusCode: number, body: string, headers: Readonly<Record<string, string>> = PAGE_HEADERS): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { ...headers }, body };
}

export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const http = event.requestContext.http;
  let body: string | undefined;
  if (http.method === 'POST') {
    // The link is the credential; a decision is posted from the page's own form, never from
    // another site or an opaque origin (the local server's check). API Gateway lower-cases names.
    const refused = formPostRefusal({ origin: event.headers?.origin, secFetchSite: event.headers?.['sec-fetch-site'], contentType: event.headers?.['content-type'] }, `https://${event.requestContext.domainName}`);
    if (refused) {
      logger.warn('approval form refused', { status: refused.status, approvalId: event.pathParameters?.id, origin: event.headers?.origin, secFetchSite: event.headers?.['sec-fetch-site'], sourceIp: http.sourceIp });
      return html(refused.status, refused.html, refused.headers);
    }
    body = event.body === undefined ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  }
  const { doc, tables } = awsData();
  const deps: ApprovalPageDeps = {
    doc,
    tables,
    key,
    now: () => new Date(),
    // A link decides only while its person still holds its role (rotation file, PagerDuty).
    oncall: awsOnCall(),
    sendTaskSuccess: async (taskToken, output) => sfn.send(new (await import('@aws-sdk/client-sfn')).SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) })),
    sendTaskFailure: async (taskToken, error, cause) => sfn.send(new (await import('@aws-sdk/client-sfn')).SendTaskFailureCommand({ taskToken, error, cause: cause.slice(0, 32768) })),
    record: (incidentId, e) => appendEvent(doc, tables, incidentId, e),
    from: { sourceIp: http.sourceIp, userAgent: http.userAgent },
    warn: (message, error) => logger.warn(message, error as Error),
    // A status-page notice approved: it goes out from here (no execution waits on it).
    onNoticeDecided: (rec) => {
      const page = awsStatusPage();
      const deps: StatusNoticeDeps = { doc, tables, now: () => new Date(), components: page?.components ?? {}, ...(page?.publisher ? { publisher: page.publisher } : {}) };
      return onNoticeDecided(deps, rec);
    },
  };
  // Never log the query: it holds a live signature.
  const query = { ...(event.queryStringParameters ?? {}), id: event.pathParameters?.id };
  const page = await approvalPage(http.method, query, body, deps);
  // A POST that the page accepted decided the approval (the query says which way).
  if (http.method === 'POST' && page.status === 200) emitAgentMetrics(powertoolsSink, approvalDecisionMetrics(String((query as Record<string, unknown>).decision ?? 'unknown')));
  logger.info('approval page', { method: http.method, approvalId: event.pathParameters?.id, status: page.status, sourceIp: http.sourceIp });
  return html(page.status, page.html, page.headers);
}
