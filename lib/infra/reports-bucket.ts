/**
 * Where §5.1 reports (`reports/<id>.json`, `reports/<id>.<lang>.md`) and the embedded knowledge
 * base (`knowledge/entries.json`) live in AWS: an S3 bucket, encrypted (SSE-S3), public access
 * blocked, SSL only, versioned (a rewritten report keeps its earlier versions), retained when
 * the stack goes, with server access logs to a second bucket of the same kind.
 */
import { Aws, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { PermissionGrant } from './agent-function';

export interface ReportsBucketProps {
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

export class ReportsBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, props: ReportsBucketProps = {}) {
    super(scope, id);
    // Log delivery through a bucket policy (logging.s3.amazonaws.com), as AWS recommends: the
    // legacy LogDeliveryWrite ACL cannot be set on a bucket with ACLs disabled (BUCKET_OWNER_ENFORCED),
    // and synth fails with it. Set here, before the buckets exist, so it holds for them alone.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const common = {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    };
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', { ...common, lifecycleRules: [{ expiration: Duration.days(365) }] });
    Validations.of(this.accessLogs).acknowledge({ id: 'AwsSolutions-S1', reason: 'This is the access-log bucket of the reports bucket; logging it into itself would loop.' });
    this.bucket = new s3.Bucket(this, 'Reports', {
      ...common,
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'reports-bucket/',
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(365) }],
    });
  }

  /**
   * What a function that writes reports and the embedded knowledge base does, and nothing more:
   * Get/Put on `reports/*` and `knowledge/*` (the S3 store reads a report to serve and compare
   * it; the knowledge document is read, merged and put back conditionally), and ListBucket on
   * the bucket: without it S3 answers a GetObject of a key that does not exist yet (the first
   * `knowledge/entries.json`) with 403 AccessDenied instead of 404 NoSuchKey
   * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html, "Permissions"), and the
   * knowledge base could never be started. ListBucket carries no prefix condition: S3 makes that
   * check without a prefix, so a `s3:prefix` condition would never match it.
   */
  writerGrants(): PermissionGrant[] {
    return [
      {
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [this.bucket.arnForObjects(`${REPORTS_KEY_PREFIX}*`), this.bucket.arnForObjects(`${KNOWLEDGE_KEY_PREFIX}*`)],
        wildcardReason: 'Object keys are incident ids known only at run time; limited to the reports/ and knowledge/ prefixes of the reports bucket.',
      },
      { actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] },
    ];
  }

  /** What the investigation needs to find similar past incidents: read the knowledge document (and a missing one is a 404, see writerGrants). */
  readerGrants(): PermissionGrant[] {
    return [
      { actions: ['s3:GetObject'], resources: [this.bucket.arnForObjects(`${KNOWLEDGE_KEY_PREFIX}*`)], wildcardReason: 'The knowledge document under the knowledge/ prefix of the reports bucket.' },
      { actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] },
    ];
  }
}

/** Key prefixes of the bucket (lib/report/s3-store.ts REPORTS_PREFIX, lib/knowledge/s3.ts DEFAULT_KNOWLEDGE_KEY). */
export const REPORTS_KEY_PREFIX = 'reports/';
export const KNOWLEDGE_KEY_PREFIX = 'knowledge/';

/** The Qdrant knowledge base of `sre-agent:config` → `knowledge`. */
export interface QdrantKnowledgeConfig {
  readonly qdrantUrl: string;
  readonly qdrantApiKeySecret?: string;
  readonly bedrockModelId: string;
}

/**
 * What a function that writes or searches the Qdrant knowledge base needs besides the bucket:
 * bedrock:InvokeModel on the one embedding model (a foundation model of the stack's region), and
 * the API key's secret when there is one.
 */
export function qdrantKnowledgeGrants(knowledge: QdrantKnowledgeConfig): PermissionGrant[] {
  const grants: PermissionGrant[] = [{ actions: ['bedrock:InvokeModel'], resources: [bedrockModelArn(knowledge.bedrockModelId)] }];
  if (knowledge.qdrantApiKeySecret) {
    const id = knowledge.qdrantApiKeySecret;
    grants.push({
      actions: ['secretsmanager:GetSecretValue'],
      resources: [id.startsWith('arn:') ? id : `arn:${Aws.PARTITION}:secretsmanager:${Aws.REGION}:${Aws.ACCOUNT_ID}:secret:${id}-??????`],
      wildcardReason: 'The trailing ?????? is the six random characters Secrets Manager appends to the secret ARN; the Qdrant API key secret only.',
    });
  }
  return grants;
}

/** `arn:<partition>:bedrock:<region>::foundation-model/<id>` (foundation models belong to no account). */
export function bedrockModelArn(modelId: string): string {
  return `arn:${Aws.PARTITION}:bedrock:${Aws.REGION}::foundation-model/${modelId}`;
}
