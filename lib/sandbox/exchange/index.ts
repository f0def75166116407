/**
 * The drill world (issue 14): the seed's exchange as metrics with believable dynamics, coupled to
 * the Kubernetes API sandbox, a private MariaDB whose clock runs at the drill's speed, the real
 * Redis and a simulated Kafka consumer group. Drills and tests only.
 */
export { SimClock } from './clock';
export { ExchangeWorld, BASELINE, REDIS_MAXMEMORY, type ExchangeWorldOptions, type MetricSink } from './world';
export { SimulatedConsumerGroup, MESSAGES_PER_CONSUMER } from './kafka';
export { startDrillDatabase, DrillDatabaseError, LIBFAKETIME, type DrillDatabase, type DrillDatabaseOptions } from './mariadb';
