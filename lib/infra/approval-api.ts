/**
 * The approval pages in AWS: an HTTP API (`GET|POST /approvals/{id}`) in front of the
 * approval-callback function, and the Secrets Manager secret whose value signs the links
 * (read by the callback, which verifies, and by the approval request, which signs).
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { AgentFunction } from './agent-function';
import type { ApprovalLinkEnvironment } from '../runtime/environment';

/** Path of the approval page; `{id}` is the approval id (lib/approval/links.ts builds the links). */
export const APPROVAL_ROUTE_PATH = '/approvals/{id}';

export interface ApprovalApiProps {
  /** The approval-callback function: serves the page, decides, answers the task token. */
  readonly callback: AgentFunction;
  /** The approval-request function: signs the links it sends; gets SIGNING_SECRET_ID and APPROVAL_BASE_URL. */
  readonly request: AgentFunction;
  /**
   * Key that encrypts the access-log group.
   * @default - CloudWatch Logs' own encryption
   */
  readonly logKey?: kms.IKey;
  /**
   * Steady request rate allowed on the stage (requests per second). Approvers click a few links an
   * hour; a low limit blunts guessing and floods.
   * @default 10
   */
  readonly rateLimit?: number;
  /**
   * Burst allowed on the stage.
   * @default 20
   */
  readonly burstLimit?: number;
}

export class ApprovalApi extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  /** The HMAC key of approval links: 64 random alphanumeric characters, generated at deploy. */
  readonly signingKey: secretsmanager.Secret;
  readonly accessLogs: logs.LogGroup;
  /** Base URL of the approval pages (`https://<api>.execute-api.<region>.<suffix>/`). */
  readonly url: string;

  constructor(scope: Construct, id: string, props: ApprovalApiProps) {
    super(scope, id);
    this.signingKey = new secretsmanager.Secret(this, 'SigningKey', {
      description: 'sre-agent: HMAC-SHA256 key of the signed approve/reject links',
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.signingKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'No automatic rotation: rotating the HMAC key invalidates every outstanding approval link, and the functions cache the key per cold start, so a scheduled rotation would break live approvals at random. Links live only as long as one approval window (minutes); rotate by hand (put-secret-value, then redeploy the two functions) when no approval is pending.',
    });

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.logKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.api = new apigwv2.HttpApi(this, 'Api', {
      description: 'sre-agent approval pages: signed approve/reject links (GET confirms, POST decides)',
      createDefaultStage: false,
      disableExecuteApiEndpoint: false,
    });
    this.stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.rateLimit ?? 10, burstLimit: props.burstLimit ?? 20 },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        // JSON, and without the query string: it carries a live signature.
        format: apigateway.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTime',
            ip: '$context.identity.sourceIp',
            userAgent: '$context.identity.userAgent',
            method: '$context.httpMethod',
            route: '$context.routeKey',
            path: '$context.path',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });

    const routes = this.api.addRoutes({
      path: APPROVAL_ROUTE_PATH,
      methods: [apigwv2.HttpMethod.GET, apigwv2.HttpMethod.POST],
      integration: new HttpLambdaIntegration('Callback', props.callback.function, { timeout: Duration.seconds(15) }),
    });
    for (const route of routes) {
      const reason =
        'No authorizer on purpose: the approval link is the credential. Each link carries an HMAC-SHA256 signature (key in Secrets Manager) over approval id, person, role, decision and expiry; the function verifies it in constant time, checks the role against the approval record, and lets a link decide once. Approvers open it from mail or chat without signing in (seed §4: on-call at 3 a.m.).';
      // AwsSolutions-APIG4 only: cdk-nag's COG4 (Cognito authorizer) does not look at HTTP API routes.
      Validations.of(route).acknowledge({ id: 'AwsSolutions-APIG4', reason });
    }

    this.url = this.stage.url;
    const environment: ApprovalLinkEnvironment = { SIGNING_SECRET_ID: this.signingKey.secretArn, APPROVAL_BASE_URL: this.url };
    props.callback.function.addEnvironment('SIGNING_SECRET_ID', environment.SIGNING_SECRET_ID);
    for (const [name, value] of Object.entries(environment)) props.request.function.addEnvironment(name, value);
    const read = [{ actions: ['secretsmanager:GetSecretValue'], resources: [this.signingKey.secretArn] }];
    props.callback.addPermissions(read);
    props.request.addPermissions(read);
  }
}
