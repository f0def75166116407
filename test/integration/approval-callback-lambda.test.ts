/**
 * The approval-callback Lambda as deployed: its handler module on HTTP API (payload 2.0) events,
 * a real DynamoDB API (dynalite, reached through AWS_ENDPOINT_URL_DYNAMODB), and Step Functions
 * and Secrets Manager mocked at the SDK boundary (aws-sdk-client-mock), run under the IAM check
 * as its synthesized role: it may read the stack's signing key and answer task tokens; without
 * states:SendTaskSuccess the decision stands but the waiting execution is never told.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { buildApprovalLinks } from '../../lib/approval/links';
import { getApproval, requestApproval } from '../../lib/approval/store';
import { getTimeline, openOrJoinIncident } from '../../lib/incident';
import { allowedResources, lambdaIamCheck, withoutGrant } from '../helpers/iam';
import { LAMBDA_TEST_TABLES } from '../helpers/lambda-env';
import { approvalCallbackLambda, SIGNING_SECRET_ARN, signingKey } from '../helpers/approval-callback-lambda';
import { API_DOMAIN, approvalPageEvent as event, formOf } from '../helpers/http-api-event';

const { sfn, secrets, lambda, handler } = approvalCallbackLambda();
const SECRET_ARN = SIGNING_SECRET_ARN;
const BASE = `https://${API_DOMAIN}/`;
const tables = LAMBDA_TEST_TABLES;
const key = signingKey;



async function pending(step: string, approvers: string[]) {
  const { incident } = await openOrJoinIncident(lambda.dynamo.doc, tables, {
    playbook: 'rds-connection-exhaustion',
    service: `orders-db-${step}`,
    severity: 'HIGH',
    alarm: { name: `sre-agent/rds-connection-exhaustion/${step}` },
    detectedAt: new Date(),
    anomalyStartedAt: new Date(),
  });
  return requestApproval(lambda.dynamo.doc, tables, { incidentId: incident.id, step, action: 'rds_parameter_change', level: 2, approvers, minApprovals: approvers.length, taskToken: `token-of-${step}+/=`, timeoutSeconds: 600, totalSeconds: 3300, risk: 'MEDIUM', binding: { action: 'rds_parameter_change', paramsHash: 'b'.repeat(64), target: 'database:rds' }, params: {} }, new Date());
}

describe('approval-callback Lambda', () => {
  it('confirms on GET and decides on POST with SendTaskSuccess, the key read once', async () => {
    // GIVEN
    const record = await pending('raise_max_connections', ['dba']);
    const { approveUrl } = await buildApprovalLinks(BASE, record, 'Zhao Min', 'dba', key);
    // WHEN
    const view = await handler(event(approveUrl, 'GET'));
    // THEN
    expect(view.statusCode).toBe(200);
    expect(view.headers).toMatchObject({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    expect(sfn.calls()).toHaveLength(0);
    // WHEN the form comes back (base64-encoded, as API Gateway may send it)
    const decided = await handler(event(approveUrl, 'POST', formOf(String(view.body)), { base64: true }));
    // THEN
    expect(decided.statusCode).toBe(200);
    expect((await getApproval(lambda.dynamo.doc, tables, record.approvalId)).status).toBe('APPROVED');
    const calls = sfn.commandCalls(SendTaskSuccessCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input.taskToken).toBe('token-of-raise_max_connections+/=');
    expect(JSON.parse(calls[0]!.args[0].input.output!)).toEqual({ approvalId: record.approvalId, decisions: [expect.objectContaining({ role: 'dba', person: 'Zhao Min', decision: 'approve' })] });
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    const timeline = await getTimeline(lambda.dynamo.doc, tables, record.incidentId);
    expect(timeline.filter((e) => e.type.startsWith('approval_')).map((e) => [e.type, e.data?.sourceIp])).toEqual([
      ['approval_viewed', '198.51.100.23'],
      ['approval_approved', '198.51.100.23'],
    ]);
    expect(lambda.check.denials()).toEqual([]);
    expect(allowedResources(lambda.check, 'approvalCallback', 'secretsmanager:GetSecretValue')).toEqual([SECRET_ARN]);
    expect(allowedResources(lambda.check, 'approvalCallback', 'states:SendTaskSuccess')).toEqual(['*']);
    expect(allowedResources(lambda.check, 'approvalCallback', 'dynamodb:UpdateItem')).toContain('arn:aws:dynamodb:us-east-1:123456789012:table/apr');
  });

  it('rejects with SendTaskFailure(ApprovalRejectedError)', async () => {
    const record = await pending('kill_idle_connections', ['dba']);
    const { rejectUrl } = await buildApprovalLinks(BASE, record, 'Zhao Min', 'dba', key);
    const view = await handler(event(rejectUrl, 'GET'));
    const res = await handler(event(rejectUrl, 'POST', `${formOf(String(view.body))}&reason=${encodeURIComponent('pool is fine')}`));
    expect(res.statusCode).toBe(200);
    expect(sfn.commandCalls(SendTaskFailureCommand).map((c) => c.args[0].input)).toEqual([
      { taskToken: 'token-of-kill_idle_connections+/=', error: 'ApprovalRejectedError', cause: 'Zhao Min (dba) rejected kill_idle_connections: pool is fine' },
    ]);
    expect(lambda.check.denials()).toEqual([]);
  });

  it('without states:SendTaskSuccess in its role, the approval stands but the execution is not told: AccessDeniedException on the timeline', async () => {
    // GIVEN the function's role without its SendTaskSuccess grant
    const without = lambdaIamCheck(lambda.env, { editTemplate: withoutGrant('approvalCallback', 'states:SendTaskSuccess') });
    const record = await pending('raise_pool_size', ['dba']);
    const { approveUrl } = await buildApprovalLinks(BASE, record, 'Zhao Min', 'dba', key);
    // WHEN the approver confirms and decides
    const view = await handler(event(approveUrl, 'GET'), without);
    const decided = await handler(event(approveUrl, 'POST', formOf(String(view.body))), without);
    // THEN the call was denied as AWS denies it; the decision is stored and the failure recorded
    expect(decided.statusCode).toBe(200);
    expect(without.denials()).toEqual([expect.objectContaining({ function: 'approvalCallback', action: 'states:SendTaskSuccess', resource: '*' })]);
    expect((await getApproval(lambda.dynamo.doc, tables, record.approvalId)).status).toBe('APPROVED');
    const failed = (await getTimeline(lambda.dynamo.doc, tables, record.incidentId)).find((e) => e.type === 'approval_release_failed');
    expect(failed?.data).toMatchObject({ approvalId: record.approvalId, error: expect.stringMatching(/^AccessDeniedException: .*not authorized to perform: states:SendTaskSuccess/) });
  });

  it('refuses a form that is not urlencoded with 415 and a tampered link with 403, calling nothing', async () => {
    const record = await pending('restart_leaking_pods', ['oncall_sre']);
    const { approveUrl } = await buildApprovalLinks(BASE, record, 'john', 'oncall_sre', key);
    const forged = approveUrl.replace('person=john', 'person=mallory');
    expect((await handler(event(approveUrl, 'POST', '{}', { contentType: 'application/json' }))).statusCode).toBe(415);
    expect((await handler(event(forged, 'GET'))).statusCode).toBe(403);
    expect(sfn.calls()).toHaveLength(0);
    expect((await getApproval(lambda.dynamo.doc, tables, record.approvalId)).status).toBe('PENDING');
    expect(lambda.check.denials()).toEqual([]);
  });
});
