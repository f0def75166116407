/**
 * The `kafka` target: the brokers KAFKA_BROKERS through the kafkajs admin client (MSK IAM when
 * MSK_IAM_REGION is set), else MSK's CloudWatch lag metrics for MSK_CLUSTER_NAME / KAFKA_TOPIC.
 * Consumer groups map to services through the policy's service map.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { Kafka } from 'kafkajs';
import { KafkajsConsumerGroups, kafkaConfig } from '../../actions/kafka/consumer-groups';
import { MskCloudWatchLag } from '../../actions/kafka/msk-cloudwatch';
import { lazyClient } from '../lazy-sdk';
import type { TargetFactory } from './types';

export const kafkaTarget: TargetFactory = async ({ env, policy }) => {
  const services = policy.services;
  const serviceOf = (group: string) => {
    const service = services.serviceOfConsumerGroup(group);
    return service ? { service, deployment: services.entry(service).deployment } : undefined;
  };
  if (env.KAFKA_BROKERS) {
    const admin = new Kafka(await kafkaConfig({ brokers: env.KAFKA_BROKERS, mskIamRegion: env.MSK_IAM_REGION })).admin();
    await admin.connect();
    return new KafkajsConsumerGroups({ admin, defaultGroup: env.KAFKA_CONSUMER_GROUP, serviceOf });
  }
  if (env.MSK_CLUSTER_NAME && env.KAFKA_TOPIC) {
    return new MskCloudWatchLag({ client: lazyClient<CloudWatchClient>(async () => new (await import('@aws-sdk/client-cloudwatch')).CloudWatchClient({})), cluster: env.MSK_CLUSTER_NAME, topic: env.KAFKA_TOPIC, defaultGroup: env.KAFKA_CONSUMER_GROUP, serviceOf });
  }
  return undefined;
};
