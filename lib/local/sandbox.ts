/**
 * `sre-agent sandbox`: the Kubernetes API sandbox on its own, with a kubeconfig written for it, so
 * kubectl (or any Kubernetes tool) can be pointed at the simulated exchange. The CLI reaches the
 * sandbox through here: only lib/local, lib/sandbox, bench/ and test/ import lib/sandbox.
 */
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { SANDBOX_HEADER, startKubeSandbox, TYPES } from '../sandbox/kube';
import { loadPolicy } from '../policy/files';

export interface SandboxCommandOptions {
  /** HTTPS port on 127.0.0.1. @default 6443 */
  readonly port?: number;
  /** Where the kubeconfig goes. @default .sre-agent/sandbox-kubeconfig */
  readonly kubeconfigOut?: string;
  /** Namespace of the kubeconfig's context. @default 'trading' */
  readonly namespace?: string;
  log(line: string): void;
}

export interface RunningSandbox {
  readonly url: string;
  readonly kubeconfig: string;
  stop(): Promise<void>;
}

export async function serveSandbox(o: SandboxCommandOptions): Promise<RunningSandbox> {
  const sandbox = await startKubeSandbox({ services: loadPolicy().services, port: o.port ?? 6443 });
  const file = path.resolve(o.kubeconfigOut ?? path.join('.sre-agent', 'sandbox-kubeconfig'));
  mkdirSync(path.dirname(file), { recursive: true });
  sandbox.writeKubeconfig(file, o.namespace ?? 'trading');
  const store = sandbox.cluster.store;
  const deployments = store.list(TYPES.deployments);
  const namespaces = [...new Set(deployments.map((d) => d.metadata.namespace))];
  o.log(`Kubernetes API sandbox at ${sandbox.url} — a SIMULATED cluster for drills and tests, not a real one (every response carries ${SANDBOX_HEADER})`);
  o.log(`  scene: the seed's exchange from playbooks/services.yaml: ${deployments.length} deployments in ${namespaces.join(', ')}; HPAs on ${store.list(TYPES.hpas).map((h) => h.metadata.name).join(', ')}; ${store.list(TYPES.nodes).length} nodes`);
  o.log(`  kubeconfig: ${file}`);
  o.log(`  try: export KUBECONFIG=${file}; kubectl get deploy -A; kubectl rollout restart deployment/order-consumer; kubectl exec deploy/trading-api -- jcmd 1 Thread.print`);
  return { url: sandbox.url, kubeconfig: file, stop: () => sandbox.close() };
}
