/**
 * The parameters of the actions, attacked once more: values a playbook author (past the compiler)
 * or a template resolved from stored outputs could give an action to reach what it must not, or
 * past its caps. Each case drives the real code: the rules as the compiler and the guard run
 * them, the action against the in-process Kubernetes sandbox, the dispatcher over in-memory
 * stored state. What got through on main is marked FOUND.
 */
import { action as kubectlPatch } from '../../lib/actions/kubectl_patch';
import { TYPES } from '../../lib/sandbox/kube';
import { loadPolicy } from '../../lib/policy/files';
import { actionContext } from '../helpers/action-context';
import { startTestSandbox, type TestSandbox } from '../helpers/kube-sandbox';

describe('kubectl_patch: the container whose limit was read is the one written', () => {
  let t: TestSandbox;
  beforeEach(async () => {
    t = await startTestSandbox();
  });
  afterEach(async () => {
    await t.close();
  });
  const deployment = () => t.sandbox.cluster.store.get(TYPES.deployments, 'trading', 'order-consumer');
  const ctx = (memory = new Map<string, unknown>()) => actionContext({ targets: { kube: t.kube }, policy: loadPolicy(), now: () => new Date(), memory });
  const patch = 'spec.template.spec.containers[0].resources.limits.memory: "{{current_limit * 1.5}}"';

  it('a sidecar deployed at index 0 between the read and the write does not get the main container\'s limit (the JSON patch tests the name)', async () => {
    // prepare: the action reads order-consumer (1536Mi at [0]); CI/CD ships a 64Mi sidecar in front of it just before the write
    const sidecar = { name: 'log-shipper', image: 'fluent-bit:3', resources: { limits: { memory: '64Mi' }, requests: { memory: '32Mi' } } };
    t.sandbox.beforeWrite('/apis/apps/v1/namespaces/trading/deployments/order-consumer', () => {
      const d = deployment();
      t.sandbox.cluster.store.update(TYPES.deployments, { ...d, spec: { ...d.spec, template: { ...d.spec.template, spec: { ...d.spec.template.spec, containers: [sidecar, ...d.spec.template.spec.containers] } } } });
    });
    // act
    const run = kubectlPatch.run({ resource: 'deployment/order-consumer', patch }, ctx());
    // assess: the API server refuses the patch whose test op names order-consumer; neither container changed
    await expect(run).rejects.toMatchObject({ name: 'InvalidParameterError', message: expect.stringContaining('memory limit of deployment trading/order-consumer: the API server refused the change') });
    const containers = deployment().spec.template.spec.containers as { name: string; resources: { limits: { memory: string } } }[];
    expect(containers.map((c) => [c.name, c.resources.limits.memory])).toEqual([['log-shipper', '64Mi'], ['order-consumer', '1536Mi']]);
  });

  it('a retry after the containers were reordered does not write the first reading onto another container — FOUND on main (the 64Mi sidecar at [0] was set to 2304Mi, 36 × its limit, and the summary named order-consumer)', async () => {
    // prepare: the first attempt read [order-consumer]; before the retry a sidecar lands at [0]
    const memory = new Map<string, unknown>();
    await ctx(memory).remember('deployment', () => t.kube.readDeployment({ namespace: 'trading', name: 'order-consumer' }));
    const d = deployment();
    t.sandbox.cluster.store.update(TYPES.deployments, { ...d, spec: { ...d.spec, template: { ...d.spec.template, spec: { ...d.spec.template.spec, containers: [{ name: 'log-shipper', image: 'fluent-bit:3', resources: { limits: { memory: '64Mi' } } }, ...d.spec.template.spec.containers] } } } });
    // act
    const run = kubectlPatch.run({ resource: 'deployment/order-consumer', patch }, ctx(memory));
    // assess
    await expect(run).rejects.toMatchObject({ name: 'InvalidParameterError', message: 'kubectl_patch: patch: container [0] of trading/order-consumer is now log-shipper, not order-consumer whose limit was read (the containers changed since); nothing was written' });
    expect((deployment().spec.template.spec.containers as { resources: { limits: { memory: string } } }[]).map((c) => c.resources.limits.memory)).toEqual(['64Mi', '1536Mi']);
  });

  it('safe twin: with the containers unchanged the main container is raised 1.5 ×', async () => {
    await kubectlPatch.run({ resource: 'deployment/order-consumer', patch }, ctx());
    expect(deployment().spec.template.spec.containers[0].resources.limits.memory).toBe('2304Mi');
  });
});
