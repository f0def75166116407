/**
 * The Kubernetes API sandbox for a test: the seed's exchange from playbooks/services.yaml, with
 * controller timings short enough for rollouts to finish in a second or two, a kubeconfig file,
 * and the real adapter (@kubernetes/client-node) pointed at it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { KubeOps } from '../../lib/actions/ports';
import { createKubeOps, kubeConfigFromString } from '../../lib/kube';
import { startKubeSandbox, type KubeSandbox, type KubeSandboxOptions } from '../../lib/sandbox/kube';
import { loadServiceMap } from '../../lib/policy/files';

/** Fast controllers: pods start in 0.15 s and are Ready 0.2 s later. */
export const FAST = { tickMs: 40, podStartSeconds: 0.15, podReadySeconds: 0.2, terminationSeconds: 0.1, hpaSyncSeconds: 0.5 } as const;

export interface TestSandbox {
  readonly sandbox: KubeSandbox;
  readonly kube: KubeOps;
  /** A folder of this test's own (kubeconfig, kubectl's cache). */
  readonly dir: string;
  readonly kubeconfig: string;
  close(): Promise<void>;
}

export async function startTestSandbox(options: KubeSandboxOptions = {}): Promise<TestSandbox> {
  const sandbox = await startKubeSandbox({ services: loadServiceMap(), timing: FAST, ...options });
  const dir = mkdtempSync(path.join(tmpdir(), 'sre-agent-kube-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  sandbox.writeKubeconfig(kubeconfig, 'trading');
  const kube = createKubeOps({ config: kubeConfigFromString(sandbox.kubeconfig('trading')), pollMs: 50 });
  return {
    sandbox,
    kube,
    dir,
    kubeconfig,
    close: async () => {
      await sandbox.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
