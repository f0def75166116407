/**
 * Attacks on the approval page as AWS serves it (the approval-callback Lambda behind the HTTP API,
 * payload 2.0, on dynalite under its synthesized role): a cross-site form carrying a victim's
 * link, an opaque origin, a sibling subdomain; and a link whose person does not hold its role in
 * the roster the function bundles (playbooks/oncall.yaml: dba is Zhao Min, team_lead Chen Jie).
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { buildApprovalLinks } from '../../lib/approval/links';
import { getApproval, requestApproval, type ApprovalRecord } from '../../lib/approval/store';
import { getTimeline, openOrJoinIncident } from '../../lib/incident';
import { checkedFake } from '../helpers/iam';
import { LAMBDA_TEST_TABLES } from '../helpers/lambda-env';
import { lambdaHarness } from '../helpers/lambda-harness';

const sfn = mockClient(SFNClient);
const secrets = mockClient(SecretsManagerClient);
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:sre-agent-signing-AbCdEf';
const SECRET = 'Zq8vJ3mT0pXw6bL1nR5cY9dK2hG7sF4aQe8uW1oI3yV6';
const DOMAIN = 'abc123.execute-api.us-east-1.amazonaws.com';
const OWN_ORIGIN = `https://${DOMAIN}`;
const tables = LAMBDA_TEST_TABLES;
const key = async () => Buffer.from(SECRET, 'utf8');
let callback: (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;
const lambda = lambdaHarness({
  environment: { SIGNING_SECRET_ID: SECRET_ARN },
  afterStart: async () => {
    ({ handler: callback } = await import('../../lambdas/approval-callback'));
  },
});

beforeEach(() => {
  sfn.reset();
  secrets.reset();
  secrets.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).callsFake(checkedFake(SecretsManagerClient, GetSecretValueCommand, () => ({ SecretString: SECRET })));
  sfn.on(SendTaskSuccessCommand).callsFake(checkedFake(SFNClient, SendTaskSuccessCommand, () => ({})));
  sfn.on(SendTaskFailureCommand).callsFake(checkedFake(SFNClient, SendTaskFailureCommand, () => ({})));
});

const handler = (e: APIGatewayProxyEventV2) => lambda.check.runAs('approvalCallback', () => callback(e));

/** An HTTP API payload 2.0 event for a link (GET) or its form (POST) with the browser's headers. */
function event(url: string, method: 'GET' | 'POST', body?: string, headers: Record<string, string> = {}): APIGatewayProxyEventV2 {
  const u = new URL(url);
  return {
    version: '2.0',
    routeKey: `${method} /approvals/{id}`,
    rawPath: u.pathname,
    rawQueryString: u.search.slice(1),
    headers: { 'user-agent': 'Mozilla/5.0', ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...headers },
    queryStringParameters: Object.fromEntries(u.searchParams),
    pathParameters: { id: decodeURIComponent(u.pathname.split('/').at(-1) ?? '') },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: DOMAIN,
      domainPrefix: 'abc123',
      http: { method, path: u.pathname, protocol: 'HTTP/1.1', sourceIp: '198.51.100.23', userAgent: 'Mozilla/5.0' },
      requestId: 'req-1',
      routeKey: `${method} /approvals/{id}`,
      stage: '$default',
      time: '09/Feb/2026:14:18:00 +0000',
      timeEpoch: Date.parse('2026-02-09T14:18:00Z'),
    },
    ...(body !== undefined ? { body, isBase64Encoded: false } : { isBase64Encoded: false }),
  };
}

function formOf(html: string): string {
  const form = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) form.append(m[1]!, m[2]!.replace(/&amp;/g, '&'));
  return form.toString();
}

let n = 0;
async function pendingDba(): Promise<ApprovalRecord> {
  n += 1;
  const { incident } = await openOrJoinIncident(lambda.dynamo.doc, tables, { playbook: 'rds-connection-exhaustion', service: `orders-db-adv-${n}`, severity: 'HIGH', alarm: { name: `sre-agent/rds-connection-exhaustion/orders-db-adv-${n}` }, detectedAt: new Date(), anomalyStartedAt: new Date() });
  return requestApproval(lambda.dynamo.doc, tables, { incidentId: incident.id, step: 'increase_max_connections', action: 'rds_parameter_change', level: 2, approvers: ['dba'], minApprovals: 1, taskToken: `token-adv-${n}`, timeoutSeconds: 600, totalSeconds: 3300, risk: 'MEDIUM', binding: { action: 'rds_parameter_change', paramsHash: 'c'.repeat(64), target: 'database:rds' }, params: {} }, new Date());
}

describe('approval-callback Lambda: a decision comes from its own page only', () => {
  it.each([
    ['another site\'s form', { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }],
    ['another site, Origin only (an older browser)', { origin: 'https://evil.example' }],
    ['an opaque origin (sandboxed frame, data: URL)', { origin: 'null' }],
    ['a sibling subdomain', { 'sec-fetch-site': 'same-site' }],
    ['a cross-site fetch without Origin', { 'sec-fetch-site': 'cross-site' }],
    ['the API over plain http (another origin)', { origin: `http://${DOMAIN}` }],
    ['the API host with a port (another origin)', { origin: `${OWN_ORIGIN}:8443` }],
    ['a look-alike host', { origin: `https://${DOMAIN}.evil.example` }],
  ])('refuses a POST from %s with 403, deciding nothing and telling no execution', async (_what, headers) => {
    // prepare: the victim's valid link and its form
    const rec = await pendingDba();
    const { approveUrl } = await buildApprovalLinks(OWN_ORIGIN, rec, 'Zhao Min', 'dba', key);
    const view = await handler(event(approveUrl, 'GET'));
    expect(view.statusCode).toBe(200);
    // act: the form posted from elsewhere
    const res = await handler(event(approveUrl, 'POST', formOf(String(view.body)), headers));
    // assess
    expect(res.statusCode).toBe(403);
    expect(String(res.body)).toContain(`can only be sent from its own page (${OWN_ORIGIN})`);
    expect(res.headers).toMatchObject({ 'cache-control': 'no-store', 'x-frame-options': 'DENY' });
    expect(await getApproval(lambda.dynamo.doc, tables, rec.approvalId)).toMatchObject({ status: 'PENDING', decisions: [] });
    expect(sfn.calls()).toHaveLength(0);
  });

  it.each([
    ['its own origin, same-origin', { origin: OWN_ORIGIN, 'sec-fetch-site': 'same-origin' }],
    ['a client that sends neither header (curl, a mail client)', {}],
  ])('safe twin: decides a POST from %s', async (_what, headers) => {
    const rec = await pendingDba();
    const { approveUrl } = await buildApprovalLinks(OWN_ORIGIN, rec, 'Zhao Min', 'dba', key);
    const view = await handler(event(approveUrl, 'GET'));
    const res = await handler(event(approveUrl, 'POST', formOf(String(view.body)), headers));
    expect(res.statusCode).toBe(200);
    expect((await getApproval(lambda.dynamo.doc, tables, rec.approvalId)).status).toBe('APPROVED');
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
    expect(lambda.check.denials()).toEqual([]);
  });
});

describe('approval-callback Lambda: the link\'s person must hold its role in the bundled roster now', () => {
  it('refuses a link for dba signed to Chen Jie (team lead, not the DBA), naming them and the approval', async () => {
    const rec = await pendingDba();
    const { approveUrl } = await buildApprovalLinks(OWN_ORIGIN, rec, 'Chen Jie', 'dba', key);
    const view = await handler(event(approveUrl, 'GET'));
    expect(view.statusCode).toBe(403);
    expect(String(view.body)).toContain(`Chen Jie no longer holds the role dba in the on-call roster (held now by Zhao Min); their link cannot decide approval ${rec.approvalId}`);
    const post = await handler(event(approveUrl, 'POST', 'person=Chen+Jie', { origin: OWN_ORIGIN }));
    expect(post.statusCode).toBe(403);
    expect(await getApproval(lambda.dynamo.doc, tables, rec.approvalId)).toMatchObject({ status: 'PENDING', decisions: [] });
    expect(sfn.calls()).toHaveLength(0);
    const refused = (await getTimeline(lambda.dynamo.doc, tables, rec.incidentId)).filter((e) => e.type === 'approval_refused');
    expect(refused.map((e) => e.data?.reason)).toEqual(['not_on_call', 'not_on_call']);
    expect(lambda.check.denials()).toEqual([]);
  });
});
