/**
 * The dependencies every core operation receives (`CoreDeps`): I/O comes in through them, one
 * wiring for the Lambda handlers (lib/runtime/aws.ts) and the local engine.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ApprovalLinks, Notifier } from '../../notify';
import type { OnCallLookup, Person } from '../../approval/oncall';
import type { ApprovalRecord, ApprovalTables } from '../../approval/store';
import type { BreakerConfig, BreakerTables } from '../../breaker';
import type { IncidentTables } from '../../incident';
import type { MetricSource } from '../../metrics';
import type { MetricCatalogue } from '../../playbook/catalogue';
import type { CompiledPlaybooks } from '../../compiled/manifest';
import type { Policy } from '../../policy/policy';
import type { KnowledgeStore } from '../../knowledge/store';
import type { ReportStore } from '../../report';
import type { InvestigationDeps } from '../investigate';
import type { StatusComponentMap } from '../status-notice';
import type { StatusPagePublisher } from '../../notify/status-page';

export type CoreTables = IncidentTables & BreakerTables & ApprovalTables & { readonly reports?: string };

/** Releases a waiting task (SendTaskSuccess / SendTaskFailure in AWS, the engine's tokens locally). */
export interface TaskReleaser {
  succeed(taskToken: string, output: unknown): unknown;
  fail(taskToken: string, error: string, cause: string): unknown;
}

export interface CoreDeps {
  readonly doc: DynamoDBDocumentClient;
  readonly tables: CoreTables;
  /** The compiled playbooks the function was deployed with: steps, approvers, hashes. */
  readonly playbooks: CompiledPlaybooks;
  /** The policy (service map for deployments and identities, binding of approvals). */
  readonly policy: Policy;
  /**
   * Releases an approval Task at once when its approval was decided while it escalated.
   * @default - the Task waits until its window ends
   */
  readonly tasks?: TaskReleaser;
  /**
   * Puts back the configuration and feature-flag changes of an incident (seed scenario 1: rate
   * limits and degraded features are temporary), when it resolves.
   * @default - changes stay; `sre-agent config undo` puts them back
   */
  readonly undoConfig?: (incidentId: string, actor: string) => Promise<{ readonly ran: boolean; readonly summary: string }>;
  readonly breakerConfig: BreakerConfig;
  readonly metrics: MetricSource;
  readonly catalogue: MetricCatalogue;
  now(): Date;
  /**
   * Where §5.1 reports go (the data folder locally, the reports bucket in AWS).
   * @default - reports are built but kept nowhere
   */
  readonly reports?: ReportStore;
  /**
   * Where the §5.2 entry of a closed incident goes (Orama in the data folder or S3, or Qdrant).
   * @default - no knowledge base
   */
  readonly knowledge?: KnowledgeStore;
  /**
   * Sends approval requests, escalations, hand-overs, resolutions and breaker changes; every
   * outcome lands on the timeline (`notification_sent` / `notification_failed`).
   * @default - nothing is sent
   */
  readonly notifier?: Notifier;
  /**
   * Who holds a role now (rotation file, PagerDuty).
   * @default - nobody is resolved: notifications reach only the channels' own audiences, and the timeline says so
   */
  readonly oncall?: OnCallLookup;
  /**
   * One person's signed approve/reject links for one approver role of a record (lib/approval/links).
   * @default - requests carry no links
   */
  readonly approvalLinks?: (record: ApprovalRecord, person: Person, role: string) => ApprovalLinks | undefined | Promise<ApprovalLinks | undefined>;
  /**
   * What the investigation's checks read (Kubernetes, MySQL, Redis, Kafka, certificates; read-only)
   * and the knowledge base's search for similar incidents.
   * @default - checks that need a system are skipped; no similar incidents
   */
  readonly investigation?: InvestigationDeps;
  /**
   * The public status page (seed §4.1 level 4): features per service, and where approved notices go.
   * @default - notices name "some services" and, once approved, are posted by hand
   */
  readonly statusPage?: { readonly components: StatusComponentMap; readonly publisher?: StatusPagePublisher };
}

/** One core operation: the payload a compiled machine sends, and the core's dependencies. */
export type CoreOperation = (payload: unknown, deps: CoreDeps) => Promise<unknown>;

/** The operations of one core function (`${Fn_breaker}`...), by the payload's `op`. */
export type CoreOps = Readonly<Record<string, CoreOperation>>;
