/**
 * Reports and the knowledge base in the stack (issue 13, AWS side): the reports bucket, which
 * functions get it (REPORTS_BUCKET and writerGrants / readerGrants), and Qdrant + Bedrock when
 * cdk.json names them. Synthesized in memory, no bundling, no AWS.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp } from '../../../bin/sre-agent';
import { CORE_FUNCTION_SPECS, type CoreFunctionName } from '../../../lib/infra/core-functions';
import { StackConfigError } from '../../../lib/infra/errors';
import type { SreAgentStack } from '../../../lib/infra/sre-agent-stack';
import { stackFacts } from '../../../lib/local/iam';
import { reportsEnvironmentSchema } from '../../../lib/runtime/environment';

const REPO = path.resolve(__dirname, '../../..');
const FIXTURE_MANIFEST = path.join(REPO, 'test/fixtures/infra/index.json');
const CDK_JSON_CONTEXT = (JSON.parse(fs.readFileSync(path.join(REPO, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
const BASE_CONFIG = (CDK_JSON_CONTEXT['sre-agent:config'] ?? {}) as Record<string, unknown>;
const QDRANT = { qdrantUrl: 'https://qdrant.internal.example:6333', qdrantApiKeySecret: 'sre-agent/qdrant-api-key', bedrockModelId: 'amazon.titan-embed-text-v2:0' };

function synth(config: Record<string, unknown> = BASE_CONFIG): { stack: SreAgentStack; template: Template } {
  const { stack } = buildApp({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [], 'sre-agent:config': config }, manifestFile: FIXTURE_MANIFEST });
  return { stack, template: Template.fromStack(stack) };
}

const WRITERS: CoreFunctionName[] = ['report', 'executionEnded', 'reconcile', 'resolve'];
const OTHERS = (Object.keys(CORE_FUNCTION_SPECS) as CoreFunctionName[]).filter((n) => !WRITERS.includes(n) && n !== 'investigate');

interface Statement {
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Effect: string;
  readonly Condition?: unknown;
}

/** Helpers over one synthesized stack. */
function view(stack: SreAgentStack, template: Template) {
  const json = template.toJSON() as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
  const bucketId = stack.getLogicalId(stack.reports.bucket.node.defaultChild as never);
  const fnOf = (name: CoreFunctionName) => stack.core.agentFunctionFor(name);
  const variables = (name: CoreFunctionName) => (json.Resources[stack.getLogicalId(fnOf(name).function.node.defaultChild as never)]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
  const statements = (name: CoreFunctionName): Statement[] => {
    const role = stack.getLogicalId(fnOf(name).role.node.defaultChild as never);
    return Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: role }]))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
  };
  /** `action on resource` for every statement of the role that names an action of `service`. */
  const grantsOf = (name: CoreFunctionName, service: string): string[] =>
    statements(name)
      .flatMap((st) => [st.Action].flat().filter((a) => a.startsWith(`${service}:`)).flatMap((a) => [st.Resource].flat().map((r) => `${a} on ${JSON.stringify(r)}`)))
      .sort();
  const objects = (prefix: string) => JSON.stringify({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, `/${prefix}`]] });
  const bucketArn = JSON.stringify({ 'Fn::GetAtt': [bucketId, 'Arn'] });
  return { json, bucketId, variables, statements, grantsOf, objects, bucketArn };
}

describe('the reports bucket and the knowledge base in the stack', () => {
  let stack: SreAgentStack;
  let template: Template;
  let v: ReturnType<typeof view>;
  beforeAll(() => {
    ({ stack, template } = synth());
    v = view(stack, template);
  }, 180_000);

  describe('the bucket', () => {
    it('is encrypted, versioned, private, SSL-only and retained, with access logs in a second bucket', () => {
      const bucket = v.json.Resources[v.bucketId] as unknown as { Properties: Record<string, unknown>; DeletionPolicy: string; UpdateReplacePolicy: string };
      expect(bucket.DeletionPolicy).toBe('Retain');
      expect(bucket.UpdateReplacePolicy).toBe('Retain');
      expect(bucket.Properties).toMatchObject({
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LoggingConfiguration: { DestinationBucketName: { Ref: stack.getLogicalId(stack.reports.accessLogs.node.defaultChild as never) }, LogFilePrefix: 'reports-bucket/' },
      });
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: v.bucketId },
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
      // Two buckets: the reports and their access logs (delivered by a bucket policy, not an ACL).
      template.resourceCountIs('AWS::S3::Bucket', 2);
      template.hasResourceProperties('AWS::S3::BucketPolicy', { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Allow', Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject' })]) } });
    });

    it('names the bucket in an output, for `aws s3 cp`', () => {
      template.hasOutput('ReportsBucketName', { Value: { Ref: v.bucketId } });
    });
  });

  describe('who may write and read it', () => {
    it.each(WRITERS)('%s (it writes reports: reportNow) gets REPORTS_BUCKET and exactly the writer grants: Get/Put on reports/* and knowledge/*, ListBucket', (name) => {
      expect(v.variables(name)).toMatchObject({ REPORTS_BUCKET: { Ref: v.bucketId } });
      expect(v.grantsOf(name, 's3')).toEqual(
        [
          `s3:GetObject on ${v.objects('reports/*')}`,
          `s3:GetObject on ${v.objects('knowledge/*')}`,
          `s3:ListBucket on ${v.bucketArn}`,
          `s3:PutObject on ${v.objects('reports/*')}`,
          `s3:PutObject on ${v.objects('knowledge/*')}`,
        ].sort(),
      );
      expect(v.grantsOf(name, 'bedrock')).toEqual([]);
    });

    it('gives the investigation (similar past incidents) the bucket and read access to knowledge/* alone', () => {
      expect(v.variables('investigate')).toMatchObject({ REPORTS_BUCKET: { Ref: v.bucketId } });
      expect(v.grantsOf('investigate', 's3')).toEqual([`s3:GetObject on ${v.objects('knowledge/*')}`, `s3:ListBucket on ${v.bucketArn}`].sort());
    });

    it.each(OTHERS)('%s gets neither the bucket nor any S3 or Bedrock grant', (name) => {
      expect(Object.keys(v.variables(name)).filter((k) => k === 'REPORTS_BUCKET' || k.startsWith('KNOWLEDGE_'))).toEqual([]);
      expect(v.grantsOf(name, 's3')).toEqual([]);
      expect(v.grantsOf(name, 'bedrock')).toEqual([]);
    });

    it('writes an environment the functions parse with the schema they share with the construct (no Qdrant: the embedded store)', () => {
      const facts = stackFacts(v.json as never, { environment: { REPORTS_BUCKET: 'sre-agent-reports-abc' } });
      for (const name of [...WRITERS, 'investigate'] as const) {
        const parsed = reportsEnvironmentSchema.parse(facts.functions.get(name)!.environment);
        expect(parsed).toEqual({ REPORTS_BUCKET: 'sre-agent-reports-abc' });
      }
    });
  });

  it('is cdk-nag AwsSolutions clean', () => {
    expect(new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack).violations).toEqual([]);
  });
});

describe('the knowledge base on Qdrant with Bedrock embeddings (cdk.json knowledge)', () => {
  let stack: SreAgentStack;
  let v: ReturnType<typeof view>;
  beforeAll(() => {
    let template: Template;
    ({ stack, template } = synth({ ...BASE_CONFIG, knowledge: QDRANT }));
    v = view(stack, template);
  }, 180_000);

  it.each([...WRITERS, 'investigate' as const])('%s gets the Qdrant URL, the model and the secret’s name (never the key), InvokeModel on that model alone and the one secret', (name) => {
    expect(v.variables(name)).toMatchObject({ KNOWLEDGE_QDRANT_URL: QDRANT.qdrantUrl, KNOWLEDGE_BEDROCK_MODEL_ID: QDRANT.bedrockModelId, KNOWLEDGE_QDRANT_API_KEY_SECRET: QDRANT.qdrantApiKeySecret });
    expect(v.grantsOf(name, 'bedrock')).toEqual([`bedrock:InvokeModel on ${JSON.stringify({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':bedrock:', { Ref: 'AWS::Region' }, '::foundation-model/amazon.titan-embed-text-v2:0']] })}`]);
    expect(v.grantsOf(name, 'secretsmanager')).toContain(`secretsmanager:GetSecretValue on ${JSON.stringify({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':secret:sre-agent/qdrant-api-key-??????']] })}`);
  });

  it.each(OTHERS)('%s gets no Bedrock grant and no knowledge variable', (name) => {
    expect(v.grantsOf(name, 'bedrock')).toEqual([]);
    expect(Object.keys(v.variables(name)).filter((k) => k.startsWith('KNOWLEDGE_'))).toEqual([]);
  });

  it('is cdk-nag AwsSolutions clean', () => {
    expect(new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack).violations).toEqual([]);
  });

  it.each([
    [{ qdrantUrl: QDRANT.qdrantUrl }, 'sre-agent:config.knowledge.bedrockModelId'],
    [{ ...QDRANT, qdrantUrl: 'https://admin:hunter2@qdrant.internal.example:6333' }, 'sre-agent:config.knowledge.qdrantUrl: a URL without user or password'],
    [{ ...QDRANT, bedrockModelId: 'Titan V2' }, 'sre-agent:config.knowledge.bedrockModelId: a Bedrock foundation model id'],
    [{ ...QDRANT, apiKey: 'plain-text-key' }, 'sre-agent:config.knowledge'],
    [{ ...QDRANT, qdrantUrl: 'http://qdrant.internal.example:6333' }, 'sre-agent:config.knowledge.qdrantUrl: an https URL when an API key is sent'],
    [{ ...QDRANT, qdrantUrl: 'qdrant internal example' }, 'sre-agent:config.knowledge.qdrantUrl: Invalid URL'], // a StackConfigError, not a TypeError from the URL check
  ])('refuses knowledge %j at synth, naming the field', (knowledge, field) => {
    expect(() => synth({ ...BASE_CONFIG, knowledge })).toThrow(StackConfigError);
    expect(() => synth({ ...BASE_CONFIG, knowledge })).toThrow(field);
  });
});
