/**
 * The agent's DynamoDB tables. On-demand, point-in-time recovery, encrypted with the AWS-managed
 * key (aws/dynamodb: audited in CloudTrail, and no key grants for the functions to carry),
 * deletion-protected and retained. TTL only where old items may vanish: approvals and dedupe
 * records, never incidents.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

/** Name of the TTL attribute (epoch seconds) on approval items. */
/** Epoch seconds (DynamoDB TTL ignores ISO strings): 30 days after the approval expired, kept for audit until then. */
export const APPROVAL_TTL_ATTRIBUTE = 'ttl';
/** Key and TTL attribute of the dedupe table: Powertools idempotency's defaults (`id`, `expiration`). */
export const DEDUPE_KEY_ATTRIBUTE = 'id';
export const DEDUPE_TTL_ATTRIBUTE = 'expiration';

export interface DataTablesProps {
  /**
   * What CloudFormation does with the tables when they leave the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * @default true
   */
  readonly deletionProtection?: boolean;
}

export class DataTables extends Construct {
  /**
   * Incidents and everything hanging off them, one table with string keys `pk`/`sk`:
   * - incident: `pk=INC-YYYYMMDD-NNN`, `sk=INCIDENT`
   * - timeline event: `pk=INC-YYYYMMDD-NNN`, `sk=EVENT#<iso time>#<seq>` (a Query returns them in order)
   * - open-incident key: `pk=OPEN#<playbook>#<service>`, `sk=OPEN` (conditional put: repeated alarms join)
   * - daily counter: `pk=COUNTER#YYYYMMDD`, `sk=COUNTER` (atomic ADD gives NNN)
   */
  readonly incidents: dynamodb.Table;
  /** Breaker state, `pk=GLOBAL` or `pk=SERVICE#<name>`; counters move by conditional updates. */
  readonly breakers: dynamodb.Table;
  /** Approval records, `pk=<approval id>`, removed by TTL (`ttl`, epoch seconds) 30 days after their step's window. */
  readonly approvals: dynamodb.Table;
  /** Powertools idempotency records for redelivered alarm events (`id`, TTL `expiration`). */
  readonly dedupe: dynamodb.Table;

  constructor(scope: Construct, id: string, props: DataTablesProps = {}) {
    super(scope, id);
    const common = {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: props.deletionProtection ?? true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    };
    const str = (name: string): dynamodb.Attribute => ({ name, type: dynamodb.AttributeType.STRING });

    this.incidents = new dynamodb.Table(this, 'Incidents', { ...common, partitionKey: str('pk'), sortKey: str('sk') });
    this.breakers = new dynamodb.Table(this, 'Breakers', { ...common, partitionKey: str('pk') });
    this.approvals = new dynamodb.Table(this, 'Approvals', { ...common, partitionKey: str('pk'), timeToLiveAttribute: APPROVAL_TTL_ATTRIBUTE });
    this.dedupe = new dynamodb.Table(this, 'Dedupe', { ...common, partitionKey: str(DEDUPE_KEY_ATTRIBUTE), timeToLiveAttribute: DEDUPE_TTL_ATTRIBUTE });
  }

  /** The table-name variables of every function's environment. */
  environment(): { INCIDENTS_TABLE: string; BREAKERS_TABLE: string; APPROVALS_TABLE: string; DEDUPE_TABLE: string } {
    return {
      INCIDENTS_TABLE: this.incidents.tableName,
      BREAKERS_TABLE: this.breakers.tableName,
      APPROVALS_TABLE: this.approvals.tableName,
      DEDUPE_TABLE: this.dedupe.tableName,
    };
  }
}
