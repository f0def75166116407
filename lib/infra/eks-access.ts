/**
 * EKS access entries (the aws-auth ConfigMap is deprecated) for the roles of the actions that
 * reach the cluster: AmazonEKSEditPolicy in the exchange's namespaces (deployments, scale, HPAs,
 * pods/exec, TLS secrets), nothing cluster-wide. Reading nodes and metrics.k8s.io (node headroom,
 * pod usage) needs the ClusterRole binding the README gives: EKS access policies cannot grant it
 * without granting every cluster-scoped read.
 */
import { Aws } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ACTIONS } from '../actions';
import type { ActionFunctions } from './action-functions';
import { loadServiceMap } from '../policy/files';

/** The Kubernetes group the README's ClusterRoleBinding binds (node and metrics reads). */
export const EKS_READER_GROUP = 'sre-agent-readers';

export interface EksAccessProps {
  readonly clusterName: string;
  readonly actions: ActionFunctions;
  /**
   * Namespaces the actions may change.
   * @default the namespaces of playbooks/services.yaml
   */
  readonly namespaces?: readonly string[];
  /**
   * Roles that only read (the investigation): AmazonEKSViewPolicy in the same namespaces, and the reader group.
   * @default - none
   */
  readonly readers?: ReadonlyMap<string, iam.IRole>;
}

export class EksAccess extends Construct {
  /** Access entry per action name. */
  readonly entries: ReadonlyMap<string, eks.CfnAccessEntry>;

  constructor(scope: Construct, id: string, props: EksAccessProps) {
    super(scope, id);
    const map = loadServiceMap();
    const namespaces = props.namespaces ?? [...new Set(Object.keys(map.services).map((s) => map.entry(s)).filter((e) => e.kubernetes !== false).map((e) => e.namespace))].sort();
    const entries = new Map<string, eks.CfnAccessEntry>();
    // Namespace-scoped: Edit for the roles of actions that change the cluster, View for readers.
    const entry = (name: string, role: iam.IRole, policy: 'AmazonEKSEditPolicy' | 'AmazonEKSViewPolicy') =>
      entries.set(
        name,
        new eks.CfnAccessEntry(this, name, {
          clusterName: props.clusterName,
          principalArn: role.roleArn,
          type: 'STANDARD',
          kubernetesGroups: [EKS_READER_GROUP],
          accessPolicies: [{ policyArn: `arn:${Aws.PARTITION}:eks::aws:cluster-access-policy/${policy}`, accessScope: { type: 'namespace', namespaces: [...namespaces] } }],
        }),
      );
    for (const name of props.actions.names) {
      const action = ACTIONS[name];
      if (!action || !(action.uses as readonly string[]).some((u) => u === 'kube' || u === 'certificates')) continue;
      entry(name, props.actions.agentFunctionFor(name)!.role, 'AmazonEKSEditPolicy');
    }
    for (const [name, role] of props.readers ?? []) entry(name, role, 'AmazonEKSViewPolicy');
    this.entries = entries;
  }
}
