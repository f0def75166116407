/**
 * Attacks on the approval page as AWS serves it (the approval-callback Lambda behind the HTTP API,
 * payload 2.0, on dynalite under its synthesized role): a cross-site form carrying a victim's
 * link, an opaque origin, a sibling subdomain; and a link whose person does not hold its role in
 * the roster the function bundles (playbooks/oncall.yaml: dba is Zhao Min, team_lead Chen Jie).
 */
import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { buildApprovalLinks } from '../../lib/approval/links';
import { getApproval, requestApproval, type ApprovalRecord } from '../../lib/approval/store';
import { getTimeline, openOrJoinIncident } from '../../lib/incident';
import { LAMBDA_TEST_TABLES } from '../helpers/lambda-env';
import { approvalCallbackLambda, signingKey } from '../helpers/approval-callback-lambda';
import { API_DOMAIN, approvalPageEvent, formOf } from '../helpers/http-api-event';

const event = (url: string, method: 'GET' | 'POST', body?: string, headers: Record<string, string> = {}) => approvalPageEvent(url, method, body, { headers });

const { sfn, lambda, handler } = approvalCallbackLambda();
const DOMAIN = API_DOMAIN;
const OWN_ORIGIN = `https://${DOMAIN}`;
const tables = LAMBDA_TEST_TABLES;
const key = signingKey;



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
    ['its own Origin on a cross-site fetch (headers that disagree)', { origin: OWN_ORIGIN, 'sec-fetch-site': 'cross-site' }],
    ['two Sec-Fetch-Site headers joined by the gateway', { origin: OWN_ORIGIN, 'sec-fetch-site': 'same-origin,cross-site' }],
    ['another site\'s text/plain form (the enctype that needs no preflight)', { origin: 'https://evil.example', 'content-type': 'text/plain' }],
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

  it.each(['text/plain', 'application/json', 'multipart/form-data; boundary=x'])('refuses the form from its own page sent as %s (415), deciding nothing', async (contentType) => {
    const rec = await pendingDba();
    const { approveUrl } = await buildApprovalLinks(OWN_ORIGIN, rec, 'Zhao Min', 'dba', key);
    const view = await handler(event(approveUrl, 'GET'));
    const res = await handler(event(approveUrl, 'POST', formOf(String(view.body)), { origin: OWN_ORIGIN, 'sec-fetch-site': 'same-origin', 'content-type': contentType }));
    expect(res.statusCode).toBe(415);
    expect(await getApproval(lambda.dynamo.doc, tables, rec.approvalId)).toMatchObject({ status: 'PENDING', decisions: [] });
    expect(sfn.calls()).toHaveLength(0);
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
