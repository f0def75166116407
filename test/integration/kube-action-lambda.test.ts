/**
 * A Kubernetes action's Lambda as deployed: EKS_CLUSTER_NAME set, DescribeCluster (aws-sdk-client-mock)
 * answering with the sandbox's endpoint and CA, the sandbox accepting only EKS-style tokens for
 * that cluster. The handler loads the Kubernetes client lazily, signs a token with the function's
 * credentials, and the step really acts; DynamoDB is dynalite. Run under the IAM check as the
 * action's synthesized role; without eks:DescribeCluster the step fails on AccessDeniedException,
 * not retried.
 */
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { getTimeline } from '../../lib/incident';
import { closeActionTargets } from '../../lib/runtime/action-lambda';
import { TYPES } from '../../lib/sandbox/kube';
import { allowedResources, checkedFake, lambdaIamCheck, withoutGrant } from '../helpers/iam';
import { startTestSandbox, type TestSandbox } from '../helpers/kube-sandbox';
import { LAMBDA_TEST_TABLES } from '../helpers/lambda-env';
import { lambdaHarness } from '../helpers/lambda-harness';
import { startedIncident } from '../helpers/started-incident';

const tables = LAMBDA_TEST_TABLES;
const eks = mockClient(EKSClient);
let t: TestSandbox;
const tokens: string[] = [];

/** What EKS's authenticator checks before it asks STS: a v1 token whose URL is a GetCallerIdentity presign that signs the cluster id. */
function eksStyleToken(token: string): boolean {
  if (!token.startsWith('k8s-aws-v1.')) return false;
  const url = new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8'));
  const ok = url.hostname === 'sts.us-east-1.amazonaws.com' && url.searchParams.get('Action') === 'GetCallerIdentity' && (url.searchParams.get('X-Amz-SignedHeaders') ?? '').split(';').includes('x-k8s-aws-id') && (url.searchParams.get('X-Amz-Credential') ?? '').startsWith('local/');
  if (ok) tokens.push(token);
  return ok;
}

const lambda = lambdaHarness({
  environment: { EKS_CLUSTER_NAME: 'exchange-prod' },
  beforeEnvironment: async () => {
    t = await startTestSandbox({ authenticate: eksStyleToken });
    eks.on(DescribeClusterCommand, { name: 'exchange-prod' }).callsFake(checkedFake(EKSClient, DescribeClusterCommand, () => ({ cluster: { name: 'exchange-prod', endpoint: t.sandbox.url, certificateAuthority: { data: Buffer.from(t.sandbox.ca).toString('base64') }, status: 'ACTIVE' } })));
    delete process.env.KUBECONFIG;
  },
  beforeStop: async () => {
    eks.restore();
    await closeActionTargets();
    await t.close();
  },
});

describe('patch_hpa_max Lambda on EKS', () => {
  it('reaches the cluster with an IAM token and doubles the HPA, recorded on the timeline', async () => {
    // prepare
    const inc = await startedIncident(lambda.dynamo.doc, tables, { playbook: 'traffic-surge', service: 'trading-api' });
    const { handler } = await import('../../lambdas/actions/patch_hpa_max');
    // act: as the action's own function
    const r = await lambda.check.runAs('action:patch_hpa_max', () => handler(inc.actionPayload('scale_up_trading_api')));
    // assess
    expect(r.outputs).toMatchObject({ current_max: 20, new_max: 40 });
    expect(t.sandbox.cluster.store.get(TYPES.hpas, 'trading', 'trading-api').spec.maxReplicas).toBe(40);
    expect(tokens.length).toBeGreaterThan(0);
    expect(eks.commandCalls(DescribeClusterCommand)).toHaveLength(1);
    const action = (await getTimeline(lambda.dynamo.doc, tables, inc.incident.id)).find((e) => e.type === 'action');
    expect(action).toMatchObject({ step: 'scale_up_trading_api', before: { maxReplicas: 20 }, after: { maxReplicas: 40 } });
    expect(lambda.check.denials()).toEqual([]);
    expect(allowedResources(lambda.check, 'action:patch_hpa_max', 'eks:DescribeCluster')).toEqual(['arn:aws:eks:us-east-1:123456789012:cluster/exchange-prod']);
  });

  it('fails the step, not retried, when its role lacks eks:DescribeCluster (AccessDeniedException), the HPA untouched', async () => {
    // prepare: a cold function (no cluster looked up yet) whose role lost the grant
    await closeActionTargets();
    const without = lambdaIamCheck(lambda.env, { editTemplate: withoutGrant('action:patch_hpa_max', 'eks:DescribeCluster') });
    const inc = await startedIncident(lambda.dynamo.doc, tables, { playbook: 'traffic-surge', service: 'trading-api-cold' });
    const before = t.sandbox.cluster.store.get(TYPES.hpas, 'trading', 'trading-api').spec.maxReplicas;
    const { handler } = await import('../../lambdas/actions/patch_hpa_max');
    // act
    const run = without.runAs('action:patch_hpa_max', () => handler(inc.actionPayload('scale_up_trading_api')));
    // assess
    // Not retried as transient: the grant must be added.
    await expect(run).rejects.toMatchObject({ name: 'TargetAccessDeniedError', cause: expect.objectContaining({ name: 'AccessDeniedException', message: expect.stringContaining('not authorized to perform: eks:DescribeCluster') }) });
    expect(without.denials()).toEqual([expect.objectContaining({ function: 'action:patch_hpa_max', action: 'eks:DescribeCluster', resource: 'arn:aws:eks:us-east-1:123456789012:cluster/exchange-prod' })]);
    expect(t.sandbox.cluster.store.get(TYPES.hpas, 'trading', 'trading-api').spec.maxReplicas).toBe(before);
  });
});
