/** The SNS topic for approval requests, escalations and alerts: KMS-encrypted, TLS only. */
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { PermissionGrant } from './agent-function';

export interface NotificationsProps {
  /**
   * Key that encrypts messages at rest. Publishers need kms:GenerateDataKey and kms:Decrypt on
   * it (see `publishGrants`); CloudWatch alarms that publish need it in the key policy.
   */
  readonly key: kms.IKey;
  /**
   * Address subscribed to the topic (AWS mails it a confirmation link first).
   * @default - no subscription
   */
  readonly approvalEmail?: string;
}

export class Notifications extends Construct {
  readonly topic: sns.Topic;
  private readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    this.key = props.key;
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'sre-agent approvals and alerts',
      masterKey: props.key,
      enforceSSL: true,
    });
    if (props.approvalEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.approvalEmail));
  }

  /** Exactly what a function needs to publish: the topic, and the data key of its encryption. */
  publishGrants(): PermissionGrant[] {
    return [
      { actions: ['sns:Publish'], resources: [this.topic.topicArn] },
      { actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [this.key.keyArn] },
    ];
  }
}
