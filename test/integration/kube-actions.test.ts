/**
 * The Kubernetes actions with the real client (@kubernetes/client-node) against the Kubernetes API
 * sandbox (the seed's exchange, real API semantics, checked by kubectl in kubectl-sandbox.test.ts):
 * caps, the server-side dry run before every write, idempotent retries (ctx.remember), paused and
 * missing targets, 409 conflicts, rollouts, exec.
 */
import { X509Certificate } from 'node:crypto';
import { action as collect } from '../../lib/actions/collect_thread_dump_and_metrics';
import { action as kafkaAdmin } from '../../lib/actions/kafka_admin';
import { action as kubectlExec } from '../../lib/actions/kubectl_exec';
import { action as kubectlPatch } from '../../lib/actions/kubectl_patch';
import { action as rolloutUndo } from '../../lib/actions/kubectl_rollout_undo';
import { action as kubectlScale } from '../../lib/actions/kubectl_scale';
import { action as patchHpaMax } from '../../lib/actions/patch_hpa_max';
import { action as rollingRestart } from '../../lib/actions/rolling_restart';
import type { KafkaGroupState, KafkaOps, KubeOps } from '../../lib/actions/ports';
import { createKubeOps, kubeConfigFromString } from '../../lib/kube';
import { TYPES } from '../../lib/sandbox/kube';
import { actionContext } from '../helpers/action-context';
import { startTestSandbox, type TestSandbox } from '../helpers/kube-sandbox';
import { loadPolicy, loadServiceMap } from '../../lib/policy/files';
import { runCheck, type CheckPorts } from '../../lib/analysis/checks';
import { LocalMetricStore } from '../../lib/metrics';
import { defaultCatalogue } from '../../lib/playbook/catalogue-file';

const policy = loadPolicy();
let t: TestSandbox;

function ctx(options: { memory?: Map<string, unknown>; vars?: Record<string, unknown>; now?: () => Date; step?: string; timeoutSeconds?: number } = {}) {
  return actionContext({ targets: { kube: t.kube }, policy, now: options.now ?? (() => new Date()), ...options });
}

const deployment = (ns: string, name: string) => t.sandbox.cluster.store.get(TYPES.deployments, ns, name);
const hpa = (ns: string, name: string) => t.sandbox.cluster.store.get(TYPES.hpas, ns, name);
/** Requests the adapter sent to a path, in order: method and whether it was a dry run. */
const writesTo = (suffix: string) => t.sandbox.requests.filter((r) => (r.method === 'PATCH' || r.method === 'PUT') && r.path.endsWith(suffix)).map((r) => `${r.method}${r.query.includes('dryRun=All') ? ' dryRun' : ''}`);

/** The resourceVersion a write carried: metadata.resourceVersion of a merge patch, or a JSON patch's replace of it. */
function carriedVersion(body: unknown): string | undefined {
  if (Array.isArray(body)) return (body as { op: string; path: string; value?: unknown }[]).find((op) => op.path === '/metadata/resourceVersion')?.value as string | undefined;
  return (body as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion;
}

/** Writes to a path as the sandbox saw them: method (and dry run), the resourceVersion carried, the status answered. */
const versionedWritesTo = (suffix: string) =>
  t.sandbox.requests.filter((r) => (r.method === 'PATCH' || r.method === 'PUT') && r.path.endsWith(suffix)).map((r) => ({ write: `${r.method}${r.query.includes('dryRun=All') ? ' dryRun' : ''}`, resourceVersion: carriedVersion(r.body), code: r.code }));

/** Another writer changing an object (here: a label) between the adapter's read and its write; answers the new resourceVersion. */
function touch(type: (typeof TYPES)[keyof typeof TYPES], ns: string, name: string, label: string): string {
  const o = t.sandbox.cluster.store.get(type, ns, name);
  return t.sandbox.cluster.store.update(type, { ...o, metadata: { ...o.metadata, labels: { ...o.metadata.labels, 'touched-by': label } } }).metadata.resourceVersion as string;
}

/** Waits for the HPA controller's first sync of trading-api's HPA (its status write changes the resourceVersion). */
const hpaSynced = () => t.sandbox.cluster.until(() => (hpa('trading', 'trading-api').status?.conditions?.length ?? 0) > 0);

const HPA_PATH = '/apis/autoscaling/v2/namespaces/trading/horizontalpodautoscalers/trading-api';

beforeEach(async () => {
  t = await startTestSandbox();
});

afterEach(async () => {
  expect(t.sandbox.cluster.errors).toEqual([]);
  await t.close();
});

describe('patch_hpa_max', () => {
  it('doubles the HPA max of trading-api with current_max * 2, a server dry run first, both carrying the resourceVersion read', async () => {
    // prepare
    await hpaSynced();
    const read = hpa('trading', 'trading-api').metadata.resourceVersion;
    // act
    const r = await patchHpaMax.run({ deployment: 'trading-api', new_max: 'current_max * 2' }, ctx());
    // assess
    expect(hpa('trading', 'trading-api').spec.maxReplicas).toBe(40);
    expect(r.outputs).toEqual({ current_max: 20, new_max: 40 });
    expect(versionedWritesTo('/horizontalpodautoscalers/trading-api')).toEqual([
      { write: 'PATCH dryRun', resourceVersion: read, code: 200 },
      { write: 'PATCH', resourceVersion: read, code: 200 },
    ]);
    expect(r.summary).toContain('HPA trading/trading-api maxReplicas 20 → 40');
  });

  it('a retried step doubles once: the retry works from what the first attempt read', async () => {
    // prepare
    const memory = new Map<string, unknown>();
    await patchHpaMax.run({ deployment: 'trading-api', new_max: 'current_max * 2' }, ctx({ memory }));
    // act: the same step again (a Lambda retry after the write landed)
    const again = await patchHpaMax.run({ deployment: 'trading-api', new_max: 'current_max * 2' }, ctx({ memory }));
    // assess
    expect(hpa('trading', 'trading-api').spec.maxReplicas).toBe(40);
    expect(again.outputs).toEqual({ current_max: 20, new_max: 40 });
    expect(again.summary).toContain('already 40');
  });

  it('refuses a new max over max_scale_factor × current and writes nothing', async () => {
    // act
    const run = patchHpaMax.run({ deployment: 'trading-api', new_max: 'current_max * 4' }, ctx());
    // assess
    await expect(run).rejects.toMatchObject({ name: 'PolicyViolationError', message: expect.stringContaining('trading/trading-api is over the cap 60') });
    expect(writesTo('/horizontalpodautoscalers/trading-api')).toEqual([]);
  });

  it('never lowers a max someone already raised past the new value', async () => {
    // prepare: the first attempt read 20; meanwhile someone set 50
    const memory = new Map<string, unknown>([['hpa', await t.kube.readHpa({ namespace: 'trading', name: 'trading-api' })]]);
    await t.kube.patchHpaMax({ namespace: 'trading', name: 'trading-api' }, 50);
    // act
    const r = await patchHpaMax.run({ deployment: 'trading-api', new_max: 'current_max * 2' }, ctx({ memory }));
    // assess
    expect(hpa('trading', 'trading-api').spec.maxReplicas).toBe(50);
    expect(r.summary).toContain('already 50');
  });

  it('retries a 409 Conflict from a concurrent writer, then doubles once', async () => {
    // prepare: the next two writes to the HPA lose the race
    t.sandbox.injectConflicts('/apis/autoscaling/v2/namespaces/trading/horizontalpodautoscalers/trading-api', 2);
    // act
    const r = await patchHpaMax.run({ deployment: 'trading-api', new_max: 'current_max * 2' }, ctx());
    // assess
    expect(hpa('trading', 'trading-api').spec.maxReplicas).toBe(40);
    expect((r.after as { conflictsRetried: number }).conflictsRetried).toBe(2);
  });

  it('a concurrent write between read and write is a real 409 on the resourceVersion: read again, written with the fresh one, the other change kept', async () => {
    // prepare: another writer labels the HPA just before the adapter's dry run lands
    await hpaSynced();
    const read = hpa('trading', 'trading-api').metadata.resourceVersion;
    let fresh = '';
    t.sandbox.beforeWrite(HPA_PATH, () => {
      fresh = touch(TYPES.hpas, 'trading', 'trading-api', 'capacity-team');
    });
    // act
    const r = await patchHpaMax.run({ deployment: 'trading-api', new_max: 'current_max * 2' }, ctx());
    // assess
    expect(versionedWritesTo('/horizontalpodautoscalers/trading-api')).toEqual([
      { write: 'PATCH dryRun', resourceVersion: read, code: 409 },
      { write: 'PATCH dryRun', resourceVersion: fresh, code: 200 },
      { write: 'PATCH', resourceVersion: fresh, code: 200 },
    ]);
    expect(hpa('trading', 'trading-api').spec.maxReplicas).toBe(40);
    expect(hpa('trading', 'trading-api').metadata.labels?.['touched-by']).toBe('capacity-team');
    expect((r.after as { conflictsRetried: number }).conflictsRetried).toBe(1);
  });

  it('a writer that keeps winning the race exhausts the retries: TransientTargetError, nothing written', async () => {
    // prepare: every write meets a fresh concurrent change; two retries allowed
    const kube = createKubeOps({ config: kubeConfigFromString(t.sandbox.kubeconfig('trading')), conflictRetries: 2, pollMs: 50 });
    let n = 0;
    t.sandbox.beforeWrite(HPA_PATH, () => void touch(TYPES.hpas, 'trading', 'trading-api', `writer-${++n}`), Infinity);
    // act
    const run = kube.patchHpaMax({ namespace: 'trading', name: 'trading-api' }, 40);
    // assess
    await expect(run).rejects.toMatchObject({ name: 'TransientTargetError', message: expect.stringContaining('trading/trading-api: still conflicting after 3 attempts') });
    expect(versionedWritesTo('/horizontalpodautoscalers/trading-api').map((w) => `${w.write} ${w.code}`)).toEqual(['PATCH dryRun 409', 'PATCH dryRun 409', 'PATCH dryRun 409']);
    expect(hpa('trading', 'trading-api').spec.maxReplicas).toBe(20);
  });

  it('a concurrent raise past the new max, seen on the re-read after its 409, is never lowered back', async () => {
    // prepare: the action reads 20 and aims at 40; just before its dry run someone sets 50
    await hpaSynced();
    t.sandbox.beforeWrite(HPA_PATH, () => {
      const h = hpa('trading', 'trading-api');
      t.sandbox.cluster.store.update(TYPES.hpas, { ...h, spec: { ...h.spec, maxReplicas: 50 } });
    });
    // act
    const r = await patchHpaMax.run({ deployment: 'trading-api', new_max: 'current_max * 2' }, ctx());
    // assess
    expect(hpa('trading', 'trading-api').spec.maxReplicas).toBe(50);
    expect(versionedWritesTo('/horizontalpodautoscalers/trading-api').map((w) => `${w.write} ${w.code}`)).toEqual(['PATCH dryRun 409']);
    expect(r.outputs).toEqual({ current_max: 20, new_max: 50 });
    expect(r.summary).toContain('already 50');
  });

  it('refuses the HPA of a paused deployment, naming it, and writes nothing', async () => {
    // prepare
    t.sandbox.cluster.store.update(TYPES.deployments, { ...deployment('trading', 'trading-api'), spec: { ...deployment('trading', 'trading-api').spec, paused: true } });
    // act
    const run = patchHpaMax.run({ deployment: 'trading-api', new_max: 'current_max * 2' }, ctx());
    // assess
    await expect(run).rejects.toMatchObject({ name: 'TargetPausedError', message: expect.stringContaining('patch_hpa_max: deployment trading/trading-api is paused') });
    expect(writesTo('/horizontalpodautoscalers/trading-api')).toEqual([]);
    expect(hpa('trading', 'trading-api').spec.maxReplicas).toBe(20);
  });

  it('a deployment no HPA scales is a TargetNotFoundError naming namespace/name', async () => {
    await expect(patchHpaMax.run({ deployment: 'matching-engine', new_max: 'current_max * 2' }, ctx())).rejects.toMatchObject({ name: 'TargetNotFoundError', message: 'no HorizontalPodAutoscaler scales deployment trading/matching-engine' });
  });
});

describe('kubectl_scale', () => {
  it('doubles order-consumer with current * 2 through the scale subresource, dry run first, both carrying the resourceVersion read', async () => {
    // prepare
    const read = deployment('trading', 'order-consumer').metadata.resourceVersion;
    // act
    const r = await kubectlScale.run({ deployment: 'order-consumer', replicas: 'current * 2' }, ctx());
    // assess
    expect(deployment('trading', 'order-consumer').spec.replicas).toBe(8);
    expect(r.outputs).toEqual({ current_replicas: 4, replicas: 8 });
    expect(versionedWritesTo('/deployments/order-consumer/scale')).toEqual([
      { write: 'PATCH dryRun', resourceVersion: read, code: 200 },
      { write: 'PATCH', resourceVersion: read, code: 200 },
    ]);
    await t.sandbox.cluster.until(() => t.sandbox.cluster.rolledOut('trading', 'order-consumer'));
    expect(deployment('trading', 'order-consumer').status.readyReplicas).toBe(8);
  });

  it('a concurrent change of the deployment between read and scale is a real 409: read again, scaled with the fresh resourceVersion', async () => {
    // prepare: someone labels the deployment just before the adapter's real write lands
    let fresh = '';
    t.sandbox.beforeWrite('/apis/apps/v1/namespaces/trading/deployments/order-consumer/scale', (w) => {
      if (!w.dryRun) fresh = touch(TYPES.deployments, 'trading', 'order-consumer', 'release-bot');
    }, 2);
    const read = deployment('trading', 'order-consumer').metadata.resourceVersion;
    // act
    const r = await kubectlScale.run({ deployment: 'order-consumer', replicas: 'current * 2' }, ctx());
    // assess
    expect(versionedWritesTo('/deployments/order-consumer/scale')).toEqual([
      { write: 'PATCH dryRun', resourceVersion: read, code: 200 },
      { write: 'PATCH', resourceVersion: read, code: 409 },
      { write: 'PATCH dryRun', resourceVersion: fresh, code: 200 },
      { write: 'PATCH', resourceVersion: fresh, code: 200 },
    ]);
    expect(deployment('trading', 'order-consumer').spec.replicas).toBe(8);
    expect(deployment('trading', 'order-consumer').metadata.labels?.['touched-by']).toBe('release-bot');
    expect((r.after as { conflictsRetried: number }).conflictsRetried).toBe(1);
  });

  it('a retried step doubles once', async () => {
    // prepare
    const memory = new Map<string, unknown>();
    await kubectlScale.run({ deployment: 'order-consumer', replicas: 'current * 2' }, ctx({ memory }));
    // act
    const again = await kubectlScale.run({ deployment: 'order-consumer', replicas: 'current * 2' }, ctx({ memory }));
    // assess
    expect(deployment('trading', 'order-consumer').spec.replicas).toBe(8);
    expect(again.summary).toBe('trading/order-consumer already at 8 replicas; unchanged');
  });

  it('refuses a deployment an HPA scales: the HPA would undo it', async () => {
    await expect(kubectlScale.run({ deployment: 'trading-api', replicas: 'current * 2' }, ctx())).rejects.toMatchObject({ name: 'InvalidParameterError', message: expect.stringContaining('trading/trading-api is scaled by HorizontalPodAutoscaler trading/trading-api') });
    expect(writesTo('/deployments/trading-api/scale')).toEqual([]);
  });

  it('refuses a paused deployment, naming it', async () => {
    // prepare
    await t.sandbox.cluster.store.update(TYPES.deployments, { ...deployment('trading', 'order-consumer'), spec: { ...deployment('trading', 'order-consumer').spec, paused: true } });
    // act
    const run = kubectlScale.run({ deployment: 'order-consumer', replicas: 'current * 2' }, ctx());
    // assess
    await expect(run).rejects.toMatchObject({ name: 'TargetPausedError', message: expect.stringContaining('deployment trading/order-consumer is paused') });
    expect(writesTo('/deployments/order-consumer/scale')).toEqual([]);
  });

  it('a deployment that does not exist is a TargetNotFoundError naming namespace/name', async () => {
    await expect(kubectlScale.run({ deployment: 'risk-engine', replicas: 'current * 2' }, ctx())).rejects.toMatchObject({ name: 'TargetNotFoundError', message: expect.stringContaining('deployment default/risk-engine not found') });
  });

  it('refuses more than max_scale_factor × current', async () => {
    await expect(kubectlScale.run({ deployment: 'order-consumer', replicas: 'current * 4' }, ctx())).rejects.toMatchObject({ name: 'PolicyViolationError', message: expect.stringContaining('over the cap 12') });
  });
});

describe('rolling_restart', () => {
  it('one_at_a_time: stamps restartedAt, keeps every pod serving (maxUnavailable 0, maxSurge 1), then restores the strategy', async () => {
    // prepare: watch the pods while the restart runs
    const c = t.sandbox.cluster;
    let minReady = Infinity;
    let maxPods = 0;
    const sample = setInterval(() => {
      const pods = c.store.list(TYPES.pods, { namespace: 'trading', labelSelector: 'app=order-consumer' }).filter((p) => !p.metadata.deletionTimestamp);
      minReady = Math.min(minReady, pods.filter((p) => p.status?.conditions?.some((x: { type: string; status: string }) => x.type === 'Ready' && x.status === 'True')).length);
      maxPods = Math.max(maxPods, pods.length);
    }, 10);
    // act
    const r = await rollingRestart.run({ deployment: 'order-consumer', strategy: 'one_at_a_time' }, ctx());
    clearInterval(sample);
    // assess
    const d = deployment('trading', 'order-consumer');
    expect(d.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(minReady).toBe(4);
    expect(maxPods).toBe(5);
    expect((r.after as { rollout: { podsReady: string[]; complete: boolean } }).rollout).toMatchObject({ complete: true, podsReady: expect.arrayContaining([expect.stringMatching(/^order-consumer-/)]) });
    expect((r.after as { rollout: { podsReady: string[] } }).rollout.podsReady).toHaveLength(4);
    expect(d.spec.strategy.rollingUpdate).toEqual({ maxSurge: '25%', maxUnavailable: '25%' });
    expect(writesTo('/deployments/order-consumer')).toEqual(['PATCH dryRun', 'PATCH', 'PATCH dryRun', 'PATCH']);
  });

  it('a retried restart starts no second rollout: the same stamp, the same template', async () => {
    // prepare
    const memory = new Map<string, unknown>();
    await rollingRestart.run({ deployment: 'settlement-service', strategy: 'one_at_a_time' }, ctx({ memory }));
    const replicaSets = () => t.sandbox.cluster.store.list(TYPES.replicasets, { namespace: 'settlement' }).length;
    const before = replicaSets();
    const revision = deployment('settlement', 'settlement-service').metadata.annotations?.['deployment.kubernetes.io/revision'];
    // act
    await rollingRestart.run({ deployment: 'settlement-service', strategy: 'one_at_a_time' }, ctx({ memory }));
    // assess
    expect(replicaSets()).toBe(before);
    expect(deployment('settlement', 'settlement-service').metadata.annotations?.['deployment.kubernetes.io/revision']).toBe(revision);
  });

  it('refuses a paused deployment', async () => {
    // prepare
    await t.sandbox.cluster.store.update(TYPES.deployments, { ...deployment('wallet', 'wallet-service'), spec: { ...deployment('wallet', 'wallet-service').spec, paused: true } });
    // act, assess
    await expect(rollingRestart.run({ deployment: 'wallet-service', strategy: 'one_at_a_time' }, ctx())).rejects.toMatchObject({ name: 'TargetPausedError', message: expect.stringContaining('wallet/wallet-service is paused') });
  });

  it('a rollout whose new pods never become Ready ends with RolloutTimeoutError within its time, old pods still serving', async () => {
    // prepare: the image crash-loops, so no new pod turns Ready
    const kube: KubeOps = t.kube;
    const d = deployment('trading', 'order-service');
    d.spec.template.spec.containers[0].image = d.spec.template.spec.containers[0].image.replace(/:.*$/, ':crashloop');
    t.sandbox.cluster.store.update(TYPES.deployments, { ...d, spec: { ...d.spec, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } } });
    const started = Date.now();
    // act
    const run = kube.restartDeployment({ namespace: 'trading', name: 'order-service' }, { restartedAt: '2026-02-09T14:15:00Z', strategy: 'one_at_a_time', timeoutSeconds: 2 });
    // assess
    await expect(run).rejects.toMatchObject({ name: 'RolloutTimeoutError', message: expect.stringContaining('trading/order-service did not finish') });
    expect(Date.now() - started).toBeLessThan(5000);
    const ready = t.sandbox.cluster.store.list(TYPES.pods, { namespace: 'trading', labelSelector: 'app=order-service' }).filter((p) => p.status?.conditions?.some((x: { type: string; status: string }) => x.type === 'Ready' && x.status === 'True'));
    expect(ready).toHaveLength(4);
  });
});

describe('rolling_restart within its step', () => {
  it("waits for the rollout only as long as the step's own timeout allows, not the action's 10 minutes", async () => {
    // prepare: the new pods never turn Ready; the playbook gives the step 8 s
    const d = deployment('trading', 'order-service');
    d.spec.template.spec.containers[0].image = d.spec.template.spec.containers[0].image.replace(/:.*$/, ':crashloop');
    t.sandbox.cluster.store.update(TYPES.deployments, d);
    const started = Date.now();
    // act
    const run = rollingRestart.run({ deployment: 'order-service', strategy: 'one_at_a_time' }, ctx({ timeoutSeconds: 8 }));
    // assess: it gives up after 6 s (8 less a quarter), before the Task's 8 s, and says what it saw
    await expect(run).rejects.toMatchObject({ name: 'RolloutTimeoutError', message: expect.stringContaining('trading/order-service did not finish') });
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(5_500);
    expect(took).toBeLessThan(8_000);
  });
});

describe('kubectl_rollout_undo', () => {
  it('returns the matching engine to the previous revision, as kubectl rollout undo does, and waits for it', async () => {
    // prepare: CI/CD ships v5.12.1 (revision 3)
    t.sandbox.cluster.deploy('trading', 'matching-engine', 'v5.12.1');
    await t.sandbox.cluster.until(() => t.sandbox.cluster.rolledOut('trading', 'matching-engine'));
    // act
    const r = await rolloutUndo.run({ deployment: 'matching-engine' }, ctx());
    // assess
    const d = deployment('trading', 'matching-engine');
    expect(d.spec.template.spec.containers[0].image).toMatch(/:v5\.12\.0$/);
    expect(d.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('4');
    expect(d.spec.template.metadata.labels['pod-template-hash']).toBeUndefined();
    expect(r.outputs).toEqual({ rolled_back_from: 3, rolled_back_to: 2 });
    expect(t.sandbox.cluster.rolledOut('trading', 'matching-engine')).toBe(true);
    expect(t.sandbox.requests.filter((q) => q.method === 'PATCH' && q.path.endsWith('/deployments/matching-engine')).map((q) => q.contentType)).toEqual(['application/json-patch+json', 'application/json-patch+json']);
  });

  it('a retried undo does not undo the undo', async () => {
    // prepare
    t.sandbox.cluster.deploy('trading', 'matching-engine', 'v5.12.1');
    await t.sandbox.cluster.until(() => t.sandbox.cluster.rolledOut('trading', 'matching-engine'));
    const memory = new Map<string, unknown>();
    await rolloutUndo.run({ deployment: 'matching-engine' }, ctx({ memory }));
    // act: the retry (the previous revision is now v5.12.1 again)
    const again = await rolloutUndo.run({ deployment: 'matching-engine' }, ctx({ memory }));
    // assess
    expect(deployment('trading', 'matching-engine').spec.template.spec.containers[0].image).toMatch(/:v5\.12\.0$/);
    expect(again.summary).toContain('skipped rollback');
  });

  it('refuses a paused deployment, as kubectl does', async () => {
    // prepare
    await t.sandbox.cluster.store.update(TYPES.deployments, { ...deployment('trading', 'trading-api'), spec: { ...deployment('trading', 'trading-api').spec, paused: true } });
    // act, assess
    await expect(rolloutUndo.run({ deployment: 'trading-api' }, ctx())).rejects.toMatchObject({ name: 'TargetPausedError', message: expect.stringContaining('trading/trading-api is paused') });
    expect(deployment('trading', 'trading-api').spec.template.spec.containers[0].image).toMatch(/:v2\.3\.1$/);
  });

  it('a deployment without an earlier revision is a TargetNotFoundError', async () => {
    await expect(rolloutUndo.run({ deployment: 'wallet-service' }, ctx())).rejects.toMatchObject({ name: 'TargetNotFoundError', message: 'kubectl_rollout_undo: deployment wallet/wallet-service: no rollout history found' });
  });
});

describe('kubectl_patch', () => {
  const patch = 'spec.template.spec.containers[0].resources.limits.memory: "{{current_limit * 1.5}}"\n';

  it('raises order-consumer memory limit by the seed expression as a JSON patch carrying the resourceVersion read, and waits for the rollout', async () => {
    // prepare
    const read = deployment('trading', 'order-consumer').metadata.resourceVersion;
    // act
    const r = await kubectlPatch.run({ resource: 'deployment/order-consumer', patch }, ctx());
    // assess
    expect(deployment('trading', 'order-consumer').spec.template.spec.containers[0].resources.limits.memory).toBe('2304Mi');
    expect(r.outputs).toEqual({ previous_memory_limit: 1536 * 2 ** 20, memory_limit: 2304 * 2 ** 20 });
    expect(versionedWritesTo('/deployments/order-consumer')).toEqual([
      { write: 'PATCH dryRun', resourceVersion: read, code: 200 },
      { write: 'PATCH', resourceVersion: read, code: 200 },
    ]);
    expect(t.sandbox.cluster.rolledOut('trading', 'order-consumer')).toBe(true);
  });

  it('a deploy landing between read and patch is a real 409: the patch is computed again on the new template, the new image kept', async () => {
    // prepare: CI/CD ships v1.9.0 just before the adapter's dry run
    const read = deployment('trading', 'order-consumer').metadata.resourceVersion;
    t.sandbox.beforeWrite('/apis/apps/v1/namespaces/trading/deployments/order-consumer', () => t.sandbox.cluster.deploy('trading', 'order-consumer', 'v1.9.0'));
    // act
    const r = await kubectlPatch.run({ resource: 'deployment/order-consumer', patch }, ctx());
    // assess
    // (the new rollout's status writes may make a retry meet another 409: each is read again)
    const fresh = (r.before as { resourceVersion: string }).resourceVersion;
    expect(fresh).not.toBe(read);
    const writes = versionedWritesTo('/deployments/order-consumer');
    expect(writes[0]).toEqual({ write: 'PATCH dryRun', resourceVersion: read, code: 409 });
    // no real write landed before the last, each attempt ended in a 409
    expect(writes.slice(0, -2).every((w) => w.code === 409 || (w.write === 'PATCH dryRun' && w.code === 200))).toBe(true);
    expect(writes.slice(-2)).toEqual([
      { write: 'PATCH dryRun', resourceVersion: fresh, code: 200 },
      { write: 'PATCH', resourceVersion: fresh, code: 200 },
    ]);
    expect((r.after as { conflictsRetried: number }).conflictsRetried).toBe(writes.filter((w) => w.code === 409).length);
    const c = deployment('trading', 'order-consumer').spec.template.spec.containers[0];
    expect(c.image).toMatch(/:v1\.9\.0$/);
    expect(c.resources.limits.memory).toBe('2304Mi');
  });

  it('a retried patch multiplies the first reading once', async () => {
    // prepare
    const memory = new Map<string, unknown>();
    await kubectlPatch.run({ resource: 'deployment/order-consumer', patch }, ctx({ memory }));
    // act
    await kubectlPatch.run({ resource: 'deployment/order-consumer', patch }, ctx({ memory }));
    // assess
    expect(deployment('trading', 'order-consumer').spec.template.spec.containers[0].resources.limits.memory).toBe('2304Mi');
  });

  it('refuses a paused deployment, naming it, and writes nothing', async () => {
    // prepare
    t.sandbox.cluster.store.update(TYPES.deployments, { ...deployment('trading', 'order-consumer'), spec: { ...deployment('trading', 'order-consumer').spec, paused: true } });
    // act
    const run = kubectlPatch.run({ resource: 'deployment/order-consumer', patch }, ctx());
    // assess
    await expect(run).rejects.toMatchObject({ name: 'TargetPausedError', message: expect.stringContaining('kubectl_patch: deployment trading/order-consumer is paused') });
    expect(writesTo('/deployments/order-consumer')).toEqual([]);
    expect(deployment('trading', 'order-consumer').spec.template.spec.containers[0].resources.limits.memory).toBe('1536Mi');
  });

  it('refuses more than max_memory_factor × the current limit', async () => {
    await expect(kubectlPatch.run({ resource: 'deployment/order-consumer', patch: patch.replace('1.5', '3') }, ctx())).rejects.toMatchObject({ name: 'PolicyViolationError', message: expect.stringContaining('order-consumer of trading/order-consumer is over 2 × the current 1536Mi') });
    expect(writesTo('/deployments/order-consumer')).toEqual([]);
  });

  it('a change the API server rejects in the dry run is never written', async () => {
    // act: a limit below the 1Gi request (the adapter directly: the action never lowers a limit)
    const run = t.kube.setMemoryLimit({ namespace: 'trading', name: 'order-consumer' }, 0, '512Mi', 'order-consumer');
    // assess
    await expect(run).rejects.toMatchObject({ name: 'InvalidParameterError', message: expect.stringContaining('must be less than or equal to memory limit of 512Mi') });
    expect(writesTo('/deployments/order-consumer')).toEqual(['PATCH dryRun']);
    expect(deployment('trading', 'order-consumer').spec.template.spec.containers[0].resources.limits.memory).toBe('1536Mi');
  });
});

describe('kubectl_exec', () => {
  it('takes the heap dump in the pod nearest its memory limit and publishes heap_dump_path', async () => {
    // act
    const r = await kubectlExec.run({ command: 'jmap -dump:format=b,file=/tmp/heap.hprof 1', deployment: 'trading-api' }, ctx());
    // assess
    // (two pods may use the same memory: then either is right, and the adapter takes the older)
    const usage = await t.kube.podUsage({ namespace: 'trading', name: 'trading-api' });
    const most = Math.max(...usage.map((u) => u.memoryBytes));
    const chosen = String(r.outputs?.exec_pod).replace('trading/', '');
    expect(usage.find((u) => u.pod === chosen)?.memoryBytes).toBe(most);
    expect(r.outputs).toEqual({ heap_dump_path: `trading/${chosen}:/tmp/heap.hprof`, exec_pod: `trading/${chosen}` });
    const ls = await t.kube.exec({ namespace: 'trading', name: 'trading-api' }, ['ls', '/tmp/heap.hprof'], { pod: chosen });
    expect(ls).toMatchObject({ exitCode: 0, stdout: '/tmp/heap.hprof\n' });
  });

  it('a retried heap dump reads the first run instead of failing on "File exists"', async () => {
    // prepare
    const memory = new Map<string, unknown>();
    const first = await kubectlExec.run({ command: 'jmap -dump:format=b,file=/tmp/heap.hprof 1', deployment: 'trading-api' }, ctx({ memory }));
    // act
    const again = await kubectlExec.run({ command: 'jmap -dump:format=b,file=/tmp/heap.hprof 1', deployment: 'trading-api' }, ctx({ memory }));
    // assess
    expect(again.outputs).toEqual(first.outputs);
  });

  it('fails with TargetNotFoundError (on_fail: skip handles it) when no pod of the deployment is running', async () => {
    // prepare: every pod was just OOM-killed and is restarting
    t.sandbox.cluster.oomKill('trading', 'trading-api', 6);
    // act, assess
    await expect(kubectlExec.run({ command: 'jmap -dump:format=b,file=/tmp/heap.hprof 1', deployment: 'trading-api' }, ctx())).rejects.toMatchObject({ name: 'TargetNotFoundError', message: expect.stringContaining('no running, ready pod of deployment trading/trading-api') });
  });

  it('the chosen pod deleted between its choice and the exec: the upgrade is a 404, a TargetNotFoundError naming the pod (on_fail: skip handles it)', async () => {
    // prepare: the pod is gone (evicted, scaled away) by the time the exec reaches it
    let gone = '';
    t.sandbox.beforeExec((pod) => {
      gone = pod.name;
      t.sandbox.cluster.store.delete(TYPES.pods, pod.namespace, pod.name);
    });
    // act
    const err = await kubectlExec.run({ command: 'jmap -dump:format=b,file=/tmp/heap.hprof 1', deployment: 'trading-api' }, ctx()).catch((e: unknown) => e);
    // assess
    expect(gone).toMatch(/^trading-api-/);
    expect(err).toMatchObject({ name: 'TargetNotFoundError', target: `trading/${gone}`, message: expect.stringContaining(`kubectl_exec: pod trading/${gone} is gone`) });
  });

  it('a program the image lacks is a CommandFailedError naming the pod', async () => {
    await expect(kubectlExec.run({ command: 'jmap -dump:format=b,file=/tmp/heap.hprof 1', deployment: 'market-data-ws' }, ctx())).rejects.toMatchObject({ name: 'CommandFailedError', message: expect.stringContaining('executable file not found in $PATH') });
  });

  it('a non-zero exit is a CommandFailedError with the exit code', async () => {
    // prepare: a dump onto a file that exists
    await t.kube.exec({ namespace: 'trading', name: 'order-service' }, ['jmap', '-dump:file=/tmp/heap.hprof', '1']);
    // act, assess
    await expect(kubectlExec.run({ command: 'jmap -dump:format=b,file=/tmp/heap.hprof 1', deployment: 'order-service' }, ctx())).rejects.toMatchObject({ name: 'CommandFailedError', exitCode: 1, message: expect.stringContaining('Unable to create /tmp/heap.hprof: File exists') });
  });
});

describe('collect_thread_dump_and_metrics', () => {
  it('reads GC pause, threads, CPU and memory of the matching engine and finds the deploy 10 minutes before the anomaly', async () => {
    // prepare: v5.12.1 ships, GC pauses grow to 150 ms, the alarm fires 10 minutes later
    t.sandbox.cluster.deploy('trading', 'matching-engine', 'v5.12.1');
    await t.sandbox.cluster.until(() => t.sandbox.cluster.rolledOut('trading', 'matching-engine'));
    t.sandbox.cluster.setLoad('trading', 'matching-engine', { gcPauseMs: 150 });
    const anomaly = new Date(Date.now() + 10 * 60000);
    // act
    const r = await collect.run({ service: 'matching-engine', deploy_window: '30m', deploy_services: ['matching-engine', 'order-service'] }, ctx({ vars: { alarm_state_at: anomaly.toISOString() }, now: () => anomaly }));
    // assess
    expect(r.outputs).toMatchObject({ gc_pause_duration: 0.15, thread_count: 96, confidence: 0.82, deploy_revision: 3 });
    expect(r.outputs?.recent_deploy).toMatchObject({ namespace: 'trading', deployment: 'matching-engine', revision: 3, change: 'image', image: expect.stringMatching(/:v5\.12\.1$/), previous_image: expect.stringMatching(/:v5\.12\.0$/) });
    expect(r.outputs?.cpu_usage).toBeCloseTo(6.3 / 3 / 4, 2);
    expect(r.outputs?.memory_usage).toBeGreaterThan(0.65);
    expect(r.outputs?.thread_dump_path).toMatch(/^trading\/matching-engine-[a-z0-9-]+:\/tmp\/sre-agent-threads-INC-20260209-001\.txt$/);
  });

  it('without a deploy in the window the confidence is 0', async () => {
    const r = await collect.run({ service: 'matching-engine', deploy_window: '30m' }, ctx());
    expect(r.outputs).toMatchObject({ recent_deploy: null, confidence: 0, deploy_revision: null });
  });

  it('leaves JVM metrics unknown for a Go service, never zero', async () => {
    const r = await collect.run({ service: 'market-data-ws', deploy_window: '30m' }, ctx());
    expect(r.outputs).toMatchObject({ gc_pause_duration: null, thread_count: null, thread_dump_path: null });
    expect(r.outputs?.cpu_usage).toBeGreaterThan(0);
  });
});

describe('kafka_admin with the cluster', () => {
  /** A stable, lagging group as the Kafka adapter reports it (its own tests cover kafkajs). */
  const group: KafkaGroupState = { group: 'order-events', state: 'Stable', members: 4, lag: 25000, lagTrend: 120, errors: 0, unassignedPartitions: 0, deployment: 'order-consumer', service: 'order-consumer' };
  const kafka: KafkaOps = { describeGroup: async () => group };
  const commands: ('describe_consumer_group' | 'check_consumer_health' | 'check_partition_assignment')[] = ['describe_consumer_group', 'check_consumer_health', 'check_partition_assignment'];

  it('healthy consumer pods and a stable group: healthy, so the playbook scales', async () => {
    const r = await kafkaAdmin.run({ commands }, actionContext({ targets: { kube: t.kube, kafka }, policy }));
    expect(r.outputs).toMatchObject({ consumers_healthy: true, consumer_has_errors: false, lag_increasing: true, consumer_deployment: 'order-consumer' });
    expect(r.summary).toContain('pods 4/4 ready, 0 restart(s) in the last hour');
  });

  it('OOM-killed consumer pods are errors even when the group looks stable, so the playbook restarts instead of scaling', async () => {
    // prepare
    t.sandbox.cluster.oomKill('trading', 'order-consumer', 1);
    // act
    const r = await kafkaAdmin.run({ commands }, actionContext({ targets: { kube: t.kube, kafka }, policy }));
    // assess
    expect(r.outputs).toMatchObject({ consumers_healthy: false, consumer_has_errors: true });
    expect(r.summary).toContain('(1 OOMKilled) in the last hour');
  });
});

describe('KubeOps diagnostics', () => {
  const ref = { namespace: 'trading', name: 'trading-api' };

  it('counts OOMKilled restarts of the last hour', async () => {
    // prepare
    const hit = t.sandbox.cluster.oomKill('trading', 'trading-api', 2);
    // act
    const health = await t.kube.podHealth(ref, 3600);
    // assess
    expect(health).toMatchObject({ restartsInWindow: 2, oomKilledInWindow: 2, desiredReplicas: 6 });
    expect(health.pods.filter((p) => hit.includes(p.name)).map((p) => p.lastTermination?.reason)).toEqual(['OOMKilled', 'OOMKilled']);
  });

  it('reports an HPA at its ceiling when load needs more than maxReplicas (ScalingLimited: TooManyReplicas)', async () => {
    // prepare: at its usual load trading-api is within range; then a market move needs 6× its CPU
    // (9.6 cores at 70 % of 500m requests: 28 pods recommended, over the max of 20)
    await hpaSynced();
    expect((await t.kube.readHpa(ref)).atCeiling).toBe(false);
    t.sandbox.cluster.setLoad('trading', 'trading-api', { demandCores: 1.6 * 6 });
    const limited = () => hpa('trading', 'trading-api').status?.conditions?.find((c: { type: string }) => c.type === 'ScalingLimited');
    await t.sandbox.cluster.until(() => hpa('trading', 'trading-api').status?.desiredReplicas === 20, 5000);
    // act
    const h = await t.kube.readHpa(ref);
    // assess
    expect(limited()).toMatchObject({ status: 'True', reason: 'TooManyReplicas' });
    expect(h).toMatchObject({ maxReplicas: 20, desiredReplicas: 20, atCeiling: true });
    expect(h.cpuUtilization).toBeGreaterThan(70);
  });

  it('reports a deploy, its rollback and a restart as image / rollback / restart, each at the time it began', async () => {
    // prepare: v2.2.0 ships (revision 3), is undone (revision 4 reuses revision 2's ReplicaSet), then restarted (revision 5)
    const svc = { namespace: 'settlement', name: 'settlement-service' };
    const second = (ms: number) => Math.floor(ms / 1000) * 1000;
    const c = t.sandbox.cluster;
    const deployedFrom = Date.now();
    c.deploy('settlement', 'settlement-service', 'v2.2.0');
    await c.until(() => c.rolledOut('settlement', 'settlement-service'));
    const undoFrom = Date.now();
    await t.kube.undoDeployment(svc, await t.kube.planUndo(svc));
    await c.until(() => c.rolledOut('settlement', 'settlement-service'));
    const restartFrom = Date.now();
    await t.kube.restartDeployment(svc, { restartedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), strategy: 'rolling', timeoutSeconds: 10 });
    const restartTo = Date.now();
    // act
    const deploys = await t.kube.recentDeploys([svc], 3600);
    // assess: newest first, each inside the span of what started it
    expect(deploys.map((d) => [d.revision, d.change])).toEqual([[5, 'restart'], [4, 'rollback'], [3, 'image']]);
    const at = deploys.map((d) => Date.parse(d.at));
    expect(at[0]).toBeGreaterThanOrEqual(second(restartFrom));
    expect(at[0]).toBeLessThanOrEqual(restartTo);
    expect(at[1]).toBeGreaterThanOrEqual(second(undoFrom));
    expect(at[1]).toBeLessThanOrEqual(restartFrom);
    expect(at[2]).toBeGreaterThanOrEqual(second(deployedFrom));
    expect(at[2]).toBeLessThanOrEqual(undoFrom);
    expect(deploys[1]).toMatchObject({ images: [expect.stringMatching(/:v2\.1\.1$/)], previousImages: [expect.stringMatching(/:v2\.2\.0$/)] });
  });

  it('says how many more trading-api pods the nodes can take', async () => {
    const room = await t.kube.nodeHeadroom({ namespace: 'trading', name: 'trading-api' });
    expect(room.nodes).toHaveLength(6);
    expect(room.cpuAllocatable).toBeCloseTo(6 * 15.89, 2);
    expect(room.podsThatFit).toBe(Math.floor(room.nodes.reduce((s, n) => s + Math.floor(Math.min(n.cpuFree / 0.5, n.memoryFreeBytes / 2 ** 30)), 0)));
    expect(room.podsThatFit).toBeGreaterThan(50);
  });

  it('lists the TLS secrets with certificates that parse (check_certificates reads them)', async () => {
    const secrets = await t.kube.listTlsSecrets();
    const wallet = secrets.find((s) => s.name === 'wallet-mtls')!;
    const cert = new X509Certificate(Buffer.from(wallet.data['tls.crt']!, 'base64').toString('utf8'));
    expect(Math.round((Date.parse(cert.validTo) - Date.now()) / 86400e3)).toBe(5);
  });
});

describe('investigation checks against the cluster', () => {
  const incident = { id: 'INC-20260209-001', service: 'trading-api', anomalyStartedAt: new Date().toISOString(), detectedAt: new Date().toISOString() };
  const ports = (): CheckPorts => ({ kube: t.kube, metrics: new LocalMetricStore({ catalogue: defaultCatalogue() }), catalogue: defaultCatalogue(), services: loadServiceMap() });

  it('capacity: trading-api at its HPA ceiling, with the nodes\' room for more pods (scenario 1: is capacity enough?)', async () => {
    // prepare: load needing 28 pods of a max of 20
    t.sandbox.cluster.setLoad('trading', 'trading-api', { demandCores: 1.6 * 6 });
    await t.sandbox.cluster.until(() => hpa('trading', 'trading-api').status?.desiredReplicas === 20 && t.sandbox.cluster.rolledOut('trading', 'trading-api'), 5000);
    // act
    const outcome = await runCheck({ name: 'capacity', kind: 'capacity', services: ['trading-api'], question: '当前容量是否足够', timeoutSeconds: 20 }, incident, ports(), new Date());
    // assess
    expect(outcome).toMatchObject({ status: 'ok', data: { question: '当前容量是否足够', hpas: [{ service: 'trading-api', desired: 20, max: 20, atCeiling: true }] } });
    const room = await t.kube.nodeHeadroom({ namespace: 'trading', name: 'trading-api' });
    expect(outcome.data?.headroom).toEqual({ cpuFree: room.cpuAllocatable - room.cpuRequested, memoryFreeBytes: room.memoryAllocatableBytes - room.memoryRequestedBytes, podsThatFit: room.podsThatFit, nodes: 6 });
  });

  it('capacity: a service without an HPA is reported with the error naming it, not dropped', async () => {
    const outcome = await runCheck({ name: 'capacity', kind: 'capacity', services: ['matching-engine'], timeoutSeconds: 20 }, { ...incident, service: 'matching-engine' }, ports(), new Date());
    expect(outcome).toMatchObject({ status: 'ok', data: { hpas: [{ service: 'matching-engine', error: 'no HorizontalPodAutoscaler scales deployment trading/matching-engine' }] } });
  });

  it('pod_health: OOMKilled restarts of the last hour and the pods not ready', async () => {
    // prepare: two trading-api pods were just OOM-killed and are restarting
    t.sandbox.cluster.oomKill('trading', 'trading-api', 2);
    // act
    const outcome = await runCheck({ name: 'pod_health', kind: 'pod_health', services: ['trading-api'], timeoutSeconds: 20 }, incident, ports(), new Date());
    // assess
    expect(outcome).toMatchObject({ status: 'ok', data: { deployment: 'trading/trading-api', restartsInWindow: 2, oomKilledInWindow: 2, readyPods: 4, desiredReplicas: 6 } });
  });

  it('pod_health: a service that is not on Kubernetes is skipped, never guessed', async () => {
    const outcome = await runCheck({ name: 'pod_health', kind: 'pod_health', timeoutSeconds: 20 }, { ...incident, service: 'redis-cache' }, ports(), new Date());
    expect(outcome).toMatchObject({ status: 'skipped', error: expect.stringContaining('not a Kubernetes service of the service map') });
  });
});
