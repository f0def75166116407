/**
 * Kubernetes actions enforce their caps at run time too (the second layer after the compiler),
 * against a recording in-memory KubeOps at the port boundary.
 */
import { action as kubectlPatch } from '../../../lib/actions/kubectl_patch';
import { action as kubectlScale } from '../../../lib/actions/kubectl_scale';
import { action as patchHpaMax } from '../../../lib/actions/patch_hpa_max';
import { action as kubectlExec } from '../../../lib/actions/kubectl_exec';
import type { ActionContext } from '../../../lib/actions';
import type { DeploymentState, HpaState, KubeOps } from '../../../lib/actions/ports';
import { loadPolicy } from '../../../lib/policy';
import { actionContext } from '../../helpers/action-context';

function fakeKube(hpaMax: number, replicas: number, memory = 1024 ** 3): KubeOps & { calls: string[] } {
  const calls: string[] = [];
  const dep = (name: string): DeploymentState => ({ name, replicas, paused: false, revision: 3, memoryLimitBytes: memory });
  return {
    calls,
    readHpa: async (name): Promise<HpaState> => ({ name, minReplicas: 2, maxReplicas: hpaMax }),
    patchHpaMax: async (name, max) => (calls.push(`patchHpaMax ${name} ${max}`), { name, minReplicas: 2, maxReplicas: max }),
    readDeployment: async (name) => dep(name),
    scaleDeployment: async (name, n) => (calls.push(`scale ${name} ${n}`), { ...dep(name), replicas: n }),
    restartDeployment: async (name) => dep(name),
    undoDeployment: async () => ({ from: 3, to: 2 }),
    setMemoryLimit: async (name, c, bytes) => (calls.push(`memory ${name} ${c} ${bytes}`), { ...dep(name), memoryLimitBytes: bytes }),
    exec: async (name, argv) => (calls.push(`exec ${name} ${argv.join(' ')}`), { stdout: '', stderr: '', pod: `${name}-abc` }),
    recentDeploys: async () => [],
  };
}

/** Resolves expressions and templates the way the runtime does: variables plus the action's locals. */
function context(kube: KubeOps, vars: Record<string, unknown> = {}): ActionContext {
  return actionContext({ targets: { kube }, vars, policy: loadPolicy() });
}

describe('patch_hpa_max', () => {
  it('doubles the current max with new_max: current_max * 2', async () => {
    const kube = fakeKube(10, 4);
    const r = await patchHpaMax.run({ deployment: 'trading-api', new_max: 'current_max * 2' }, context(kube));
    expect(kube.calls).toEqual(['patchHpaMax trading-api 20']);
    expect(r.outputs).toEqual({ current_max: 10, new_max: 20 });
  });

  it('refuses a new max over max_scale_factor × current and changes nothing', async () => {
    const kube = fakeKube(10, 4);
    await expect(patchHpaMax.run({ deployment: 'trading-api', new_max: 'current_max * 5' }, context(kube))).rejects.toMatchObject({ name: 'PolicyViolationError' });
    expect(kube.calls).toEqual([]);
  });

  it('fails without a Kubernetes target instead of pretending', async () => {
    const ctx = { ...context(fakeKube(1, 1)), targets: {} };
    await expect(patchHpaMax.run({ deployment: 'trading-api', new_max: 4 }, ctx)).rejects.toMatchObject({ name: 'TargetNotConfiguredError' });
  });
});

describe('kubectl_scale', () => {
  it('never scales to zero', async () => {
    const kube = fakeKube(10, 4);
    await expect(kubectlScale.run({ deployment: 'order-consumer', replicas: 'current * 0' }, context(kube))).rejects.toMatchObject({ name: 'InvalidParameterError' });
    expect(kubectlScale.checkCaps!({ deployment: 'x', replicas: 0 }, loadPolicy())[0]).toContain('scaling to zero');
    expect(kube.calls).toEqual([]);
  });

  it('scales by current * 2 within the cap', async () => {
    const kube = fakeKube(10, 4);
    await kubectlScale.run({ deployment: 'order-consumer', replicas: 'current * 2' }, context(kube));
    expect(kube.calls).toEqual(['scale order-consumer 8']);
  });
});

describe('kubectl_patch', () => {
  const patch = 'spec.template.spec.containers[0].resources.limits.memory: "{{current_limit * 1.5}}"\n';
  it('raises the memory limit to current_limit * 1.5', async () => {
    const kube = fakeKube(10, 4, 2 * 1024 ** 3);
    // The dispatcher resolves {{deployment}} before run(); {{current_limit}} is the action's own local.
    await kubectlPatch.run({ resource: 'deployment/trading-api', patch }, context(kube));
    expect(kube.calls).toEqual([`memory trading-api 0 ${3 * 1024 ** 3}`]);
  });

  it('refuses more than max_memory_factor × the current limit', async () => {
    const kube = fakeKube(10, 4, 1024 ** 3);
    await expect(kubectlPatch.run({ resource: 'deployment/trading-api', patch: patch.replace('1.5', '3') }, context(kube))).rejects.toMatchObject({ name: 'PolicyViolationError' });
    expect(kube.calls).toEqual([]);
  });

  it('refuses to patch any other field', () => {
    expect(kubectlPatch.checkCaps!({ resource: 'deployment/x', patch: 'spec.replicas: 0' }, loadPolicy())[0]).toContain('must be "spec.template.spec.containers[N].resources.limits.memory');
  });
});

describe('kubectl_exec', () => {
  it('runs only diagnostic programs, with no shell operators', async () => {
    const kube = fakeKube(1, 1);
    await expect(kubectlExec.run({ command: 'rm -rf /data', deployment: 'trading-api' }, context(kube))).rejects.toMatchObject({ name: 'InvalidParameterError' });
    await expect(kubectlExec.run({ command: 'jmap -dump:file=/tmp/x 1; rm -rf /', deployment: 'trading-api' }, context(kube))).rejects.toMatchObject({ name: 'InvalidParameterError' });
    expect(kube.calls).toEqual([]);
    const r = await kubectlExec.run({ command: 'jmap -dump:format=b,file=/tmp/heap.hprof 1', deployment: 'trading-api' }, context(kube));
    expect(r.outputs?.heap_dump_path).toBe('trading-api-abc:/tmp/heap.hprof');
  });
});
