/**
 * The parameters of the actions, attacked once more: values a playbook author (past the compiler)
 * or a template resolved from stored outputs could give an action to reach what it must not, or
 * past its caps. Each case drives the real code: the rules as the compiler and the guard run
 * them, the action against the in-process Kubernetes sandbox, the dispatcher over in-memory
 * stored state. What got through on main is marked FOUND.
 */
import { ACTIONS, type ActionDefinition } from '../../lib/actions';
import { dispatchAction, type DispatchDeps } from '../../lib/actions/dispatch';
import { action as kubectlExec } from '../../lib/actions/kubectl_exec';
import { action as kubectlPatch } from '../../lib/actions/kubectl_patch';
import type { ApprovalRecord } from '../../lib/approval/store';
import { loadCompiledPlaybooks } from '../../lib/compiled/manifest';
import type { IncidentWithSteps } from '../../lib/incident';
import { approvalBinding, runRules, type Finding, type Phase } from '../../lib/policy';
import { findAction } from '../../lib/actions';
import { facts } from '../helpers/step-facts';
import { resolveTargets } from '../../lib/actions/resolve';
import { compiledPlaybook } from '../helpers/compiled-playbook';
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

describe('api_call: the breaker of the service an endpoint names, however its host is spelled', () => {
  const ID = 'INC-20260209-001';
  const EXEC = `arn:aws:states:us-east-1:123456789012:execution:me-gc:${ID}`;

  /** A trading-api playbook whose approved step calls the matching engine's GC through `endpoint`, dispatched over in-memory state with matching-engine's breaker open. */
  async function approvedCallWithOpenBreaker(endpoint: string): Promise<{ error: unknown; gated: string[]; ran: string[] }> {
    const pb = compiledPlaybook('me-gc', `playbook: me-gc\nrisk: MEDIUM\nservice: trading-api\nsteps:\n  - name: gc\n    action: api_call\n    params: { endpoint: "${endpoint}" }\n    requires_approval: true\n    approvers: [oncall_sre]\n`);
    try {
      const playbooks = loadCompiledPlaybooks(pb.manifestFile);
      const step = playbooks.step('me-gc', 'gc')!;
      const policy = loadPolicy();
      const binding = approvalBinding('api_call', step.params, resolveTargets(step.targets, {}), policy);
      const approval = { approvalId: 'a1', status: 'APPROVED', binding, decisions: [{ role: 'oncall_sre', person: 'john', decision: 'approve', at: 'x' }] } as unknown as ApprovalRecord;
      const stored = { incident: { id: ID, playbook: 'me-gc', service: 'trading-api', severity: 'MEDIUM', status: 'MITIGATING', executionArn: EXEC, playbookHash: playbooks.get('me-gc')!.hash, timestamps: {} }, steps: {} } as unknown as IncidentWithSteps;
      const gated: string[] = [];
      const ran: string[] = [];
      const never = (what: string) => async () => {
        ran.push(what);
        throw new Error(`${what} must not be reached`);
      };
      const deps: DispatchDeps = {
        targets: {},
        policy,
        playbooks,
        now: () => new Date('2026-02-09T14:20:00.000Z'),
        load: async () => stored,
        claim: never('claim'),
        remember: never('remember'),
        finish: never('finish'),
        approval: async () => approval,
        gate: async (service) => {
          gated.push(service);
          return service === 'matching-engine' ? { mode: 'service_stopped', reason: 'service breaker for matching-engine open (manual_trip)' } : { mode: 'auto', reason: 'closed' };
        },
        attempt: never('attempt'),
        succeeded: never('succeeded'),
        record: async () => undefined,
      };
      const def = { ...(ACTIONS.api_call as ActionDefinition<Record<string, unknown>>), run: never('run') };
      const error = await dispatchAction(def, { incidentId: ID, step: 'gc', params: step.params, execution: EXEC }, deps).then(() => undefined, (e: unknown) => e);
      return { error, gated, ran };
    } finally {
      pb.remove();
    }
  }

  it.each([
    ['a percent-encoded letter in the host', 'http://%6datching-engine:8080/admin/gc'],
    ['a percent-encoded dash in the host', 'http://matching%2dengine:8080/admin/gc'],
    ['an ideographic full stop between name and namespace', 'http://matching-engine\u3002trading.svc:8080/admin/gc'],
  ])('%s: the approved call is refused while matching-engine\'s breaker is open — FOUND on main (the breaker was looked up under the host as spelled, and the approved call went through)', async (_what, endpoint) => {
    // act
    const { error, gated, ran } = await approvedCallWithOpenBreaker(endpoint);
    // assess
    expect(gated).toContain('matching-engine');
    expect(error).toMatchObject({ name: 'PolicyViolationError', rule: 'breaker-gate', message: expect.stringContaining('service breaker for matching-engine open') });
    expect(ran).toEqual([]);
  });

  it('safe twin: the endpoint as policy.yaml writes it is gated on matching-engine too', async () => {
    const { error, gated } = await approvedCallWithOpenBreaker('matching-engine:8080/admin/gc');
    expect(gated).toEqual(['trading-api', 'matching-engine']);
    expect(error).toMatchObject({ rule: 'breaker-gate' });
  });
});

/** The rules' findings for one step as the compiler (`compile`) or the guard (`runtime`) sees it. */
function findings(action: string, params: Record<string, unknown>, phase: Phase = 'runtime'): Finding[] {
  const parsed = findAction(action)!.params.safeParse(params);
  if (!parsed.success) throw new Error(`${action}: ${parsed.error.message}`);
  return runRules(facts(action, parsed.data as Record<string, unknown>), loadPolicy(), phase);
}
const refusedBy = (fs: Finding[]) => fs.filter((f) => f.effect === 'refuse').map((f) => f.rule);

describe('update_config: a blacklisted configuration key with its words joined another way', () => {
  it.each([
    ['maintenance-mode', 'global_operations', 'maintenance_mode'],
    ['maintenanceMode', 'global_operations', 'maintenance_mode'],
    ['Maintenance-Mode', 'global_operations', 'maintenance_mode'],
    ['site-down', 'global_operations', 'site_*'],
    ['tick-size', 'matching_engine_core', 'tick_size*'],
    ['tickSize', 'matching_engine_core', 'tick_size*'],
    ['lot-size', 'matching_engine_core', 'lot_size*'],
    ['order-book.depth', 'matching_engine_core', 'order_book*'],
    ['trading-pair.btc_usdt', 'matching_engine_core', 'trading_pair*'],
    ['matching-algorithm', 'matching_engine_core', 'matching_*'],
  ])('%s is refused in both phases (%s) — FOUND on main (only the _ spelling was matched; services bind all of them to one property)', (key, category, pattern) => {
    for (const phase of ['compile', 'runtime'] as const) {
      const fs = findings('update_config', { service: 'trading-api', config: `rate_limit_enabled=true,${key}=true` }, phase);
      expect(fs.filter((f) => f.rule === 'blacklisted-parameters')).toEqual([expect.objectContaining({ effect: 'refuse', category, field: ['params'], message: `blacklisted operation, category ${category}: config key "${key}" matches "${pattern}"` })]);
    }
  });

  it('a map of keys is read the same way', () => {
    expect(refusedBy(findings('update_config', { service: 'trading-api', config: { maintenanceMode: 'true' } }))).toEqual(['blacklisted-parameters']);
  });

  it('the compiler refuses the playbook, naming the step', () => {
    expect(() => compiledPlaybook('cfg', 'playbook: cfg\nrisk: MEDIUM\nservice: trading-api\nsteps:\n  - name: shed\n    action: update_config\n    params: { service: trading-api, config: "maintenance-mode=true" }\n    auto_execute: true\n').remove()).toThrow(/step "shed" \(action update_config\): \[blacklisted-parameters\] blacklisted operation, category global_operations: config key "maintenance-mode" matches "maintenance_mode"/);
  });

  it.each(['rate_limit_enabled', 'rate-limit-enabled', 'rateLimitEnabled', 'request_timeout_ms', 'pool-size'])('safe twin: %s passes', (key) => {
    expect(refusedBy(findings('update_config', { service: 'trading-api', config: `${key}=1` }))).toEqual([]);
  });
});

describe('replica caps on a constant however it is written (what `npx sre-agent validate` passes)', () => {
  /** Compiles a one-step playbook; the compiler's message, or undefined when it compiles. */
  const compileError = (action: string, params: string): string | undefined => {
    try {
      compiledPlaybook('caps', `playbook: caps\nrisk: LOW\nservice: trading-api\nsteps:\n  - name: scale\n    action: ${action}\n    params: ${params}\n    auto_execute: true\n`).remove();
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  };

  it.each([
    ['patch_hpa_max', '{ deployment: trading-api, new_max: 0 }', 'new_max 0 is not a positive whole number of replicas'],
    ['patch_hpa_max', '{ deployment: trading-api, new_max: -5 }', 'new_max -5 is not a positive whole number of replicas'],
    ['patch_hpa_max', '{ deployment: trading-api, new_max: 2.5 }', 'new_max 2.5 is not a positive whole number of replicas'],
    ['patch_hpa_max', '{ deployment: trading-api, new_max: "500" }', 'new_max "500" is over the policy ceiling max_replicas 200'],
    ['patch_hpa_max', '{ deployment: trading-api, new_max: "100 * 5" }', 'new_max "100 * 5" is over the policy ceiling max_replicas 200'],
    ['kubectl_scale', '{ deployment: trading-api, replicas: "300" }', 'replicas "300" is over the policy ceiling max_replicas 200'],
    ['kubectl_scale', '{ deployment: trading-api, replicas: "0" }', 'replicas "0": scaling to zero stops the service'],
    ['kubectl_scale', '{ deployment: trading-api, replicas: "2 - 2" }', 'replicas "2 - 2": scaling to zero stops the service'],
    ['kubectl_scale', '{ deployment: trading-api, replicas: 2.5 }', 'replicas 2.5 is not a whole number of replicas'],
  ])('%s %s is refused by the compiler, naming the parameter — FOUND on main (it compiled; only the run refused it)', (action, params, message) => {
    expect(compileError(action, params)).toMatch(new RegExp(`steps\\[0\\]\\.params\\.(new_max|replicas): step "scale" \\(action ${action}\\): \\[parameter-caps\\] ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  it.each([
    ['patch_hpa_max', '{ deployment: trading-api, new_max: 40 }'],
    ['patch_hpa_max', '{ deployment: trading-api, new_max: "current_max * 2" }'],
    ['kubectl_scale', '{ deployment: trading-api, replicas: "current * 2" }'],
    ['kubectl_scale', '{ deployment: trading-api, replicas: "6" }'],
  ])('safe twin: %s %s compiles', (action, params) => {
    expect(compileError(action, params)).toBeUndefined();
  });
});

describe('kubectl_exec: a heap dump that overwrites a file', () => {
  it.each(['jcmd 1 GC.heap_dump -overwrite /app/config/application.yml', 'jcmd 1 GC.heap_dump -overwrite=true /etc/passwd', 'jcmd 1 GC.heap_dump -gz=1 -overwrite /app/lib/app.jar'])('%j is refused at compile and run time — FOUND on main (it passed as a read-only diagnostic, which runs without approval even in diagnose-only mode)', async (command) => {
    // assess: the rules
    for (const phase of ['compile', 'runtime'] as const) expect(findings('kubectl_exec', { command, deployment: 'trading-api' }, phase).map((f) => [f.rule, f.field.join('.'), f.message])).toEqual([['parameter-caps', 'params.command', `command "${command}": jcmd GC.heap_dump -overwrite replaces an existing file in the pod; dump to a new file; kubectl_exec runs read-only diagnostics only`]]);
    // assess: the action itself, before it needs a cluster
    await expect(kubectlExec.run({ command, deployment: 'trading-api' }, actionContext({ policy: loadPolicy() }))).rejects.toMatchObject({ name: 'InvalidParameterError', message: expect.stringContaining('jcmd GC.heap_dump -overwrite replaces an existing file') });
  });

  it.each(['jcmd 1 GC.heap_dump /tmp/heap.hprof', 'jcmd 1 GC.heap_dump -gz=1 /tmp/heap.hprof.gz', 'jmap -dump:format=b,file=/tmp/heap.hprof 1'])('safe twin: %j passes', (command) => {
    expect(refusedBy(findings('kubectl_exec', { command, deployment: 'trading-api' }))).toEqual([]);
  });
});

describe('held: parameters that reach past an action\'s one shape', () => {
  it.each([
    ['kubectl_patch', { resource: 'deployment/trading-api', patch: 'spec.template.spec.serviceAccountName: cluster-admin' }],
    ['kubectl_patch', { resource: 'deployment/trading-api', patch: 'spec.template.spec.hostNetwork: true' }],
    ['kubectl_patch', { resource: 'deployment/trading-api', patch: 'spec.template.spec.containers[0].securityContext.privileged: true' }],
    ['kubectl_patch', { resource: 'deployment/trading-api', patch: 'metadata.annotations.x: y' }],
    ['kubectl_patch', { resource: 'deployment/trading-api', patch: 'spec.template.spec.initContainers[0].resources.limits.memory: 3Gi' }],
    ['kubectl_patch', { resource: 'deployment/trading-api', patch: 'spec.template.spec.containers[0].resources.requests.memory: 3Gi' }],
    ['kubectl_patch', { resource: 'deployment/trading-api', patch: 'spec.template.spec.containers[-1].resources.limits.memory: 3Gi' }],
    ['kubectl_patch', { resource: 'deployment/trading-api', patch: 'spec.template.spec.containers[0].resources.limits.memory: 3Gi\nspec.template.spec.hostNetwork: true' }],
    ['redis_command', { command: "redis-cli --scan --pattern '[c]ache:*' | xargs redis-cli UNLINK" }],
    ['redis_command', { command: "redis-cli --scan --pattern 'Cache:*' | xargs redis-cli UNLINK" }],
    ['redis_command', { command: "redis-cli --scan --pattern 'cache*' | xargs redis-cli UNLINK" }],
    ['redis_command', { command: "redis-cli -n 1 --scan --pattern 'cache:*' | xargs redis-cli UNLINK" }],
    ['redis_command', { command: "redis-cli --scan --pattern 'cache:*' | xargs redis-cli -n 2 UNLINK" }],
    ['redis_command', { command: "redis-cli --scan --pattern 'cache:*' | xargs redis-cli DEL" }],
    ['rds_parameter_change', { parameter: 'MAX_CONNECTIONS', new_value: 'current * 1.5' }],
    ['rds_parameter_change', { parameter: 'max_connections ', new_value: 'current * 1.5' }],
  ])('%s %j is refused by parameter-caps', (action, params) => {
    expect(refusedBy(findings(action, params))).toContain('parameter-caps');
  });
});
