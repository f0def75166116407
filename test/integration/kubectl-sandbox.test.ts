/**
 * The Kubernetes API sandbox, kept honest by the real kubectl (on PATH): what kubectl sends and
 * prints against the sandbox is what it sends and prints against a real cluster. Where they
 * disagree, the sandbox is wrong.
 *
 * Expected outputs come from kubectl's own source (github.com/kubernetes/kubectl): the success
 * lines of `scale`, `rollout restart|undo|status` (pkg/cmd/rollout, pkg/polymorphichelpers
 * rollout_status.go), `patch` and `set resources`; error rendering (pkg/cmd/util/helpers.go
 * checkErr: "Error from server (NotFound): ...", "The request is invalid: ...",
 * "The <Kind> \"name\" is invalid: <field>: <message>"); and the API server's behaviour
 * kubectl relies on (apiserver handlers/patch.go for the 422 of an inapplicable JSON patch, the
 * kubelet's NonZeroExitCode status that kubectl turns into its exit code). Table columns are the
 * server's (k8s.io/kubernetes pkg/printers/internalversion/printers.go).
 */
import { execFile, spawn } from 'node:child_process';
import { request } from 'node:https';
import { promisify } from 'node:util';
import { SANDBOX_HEADER, TYPES } from '../../lib/sandbox/kube';
import { startTestSandbox, type TestSandbox } from '../helpers/kube-sandbox';
import { kubectlVersionJson, kubectlVersionProblem } from '../helpers/kubectl';

const run = promisify(execFile);
let t: TestSandbox;

/** Why the kubectl on PATH cannot run this suite (too old, missing), or undefined: then every test fails with it. */
const kubectlProblem = kubectlVersionProblem(kubectlVersionJson());

interface Result {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

/** Runs the real kubectl against the sandbox (its own kubeconfig and discovery cache). */
async function kubectl(args: string[], input?: string): Promise<Result> {
  const env = { ...process.env, KUBECONFIG: t.kubeconfig, HOME: t.dir, KUBECACHEDIR: `${t.dir}/cache` };
  try {
    if (input === undefined) {
      const { stdout, stderr } = await run('kubectl', args, { env, timeout: 60000 });
      return { stdout, stderr, code: 0 };
    }
    return await new Promise<Result>((resolve) => {
      const child = execFile('kubectl', args, { env, timeout: 60000 }, (err, stdout, stderr) => resolve({ stdout, stderr, code: err ? Number((err as { code?: number }).code ?? 1) : 0 }));
      child.stdin?.end(input);
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: typeof e.code === 'number' ? e.code : 1 };
  }
}

/** The rows of kubectl's table output as arrays of cells. */
function rows(table: string): string[][] {
  return table
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s{2,}/));
}

async function json(args: string[]): Promise<any> {
  const r = await kubectl([...args, '-o', 'json']);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout);
}

// Each kubectl run costs about a second on a busy 2-core machine; rollouts wait on the controllers.
jest.setTimeout(90000);

/**
 * The sandbox's clock, which a test may stop: its controllers then leave a rollout where it is
 * (pods become Ready on this clock), however slowly kubectl starts on a busy machine.
 */
const clock = (() => {
  let lost = 0;
  let stoppedAt: number | undefined;
  return {
    now: () => new Date((stoppedAt ?? Date.now()) - lost),
    stop: () => void (stoppedAt ??= Date.now()),
    go: () => {
      if (stoppedAt !== undefined) lost += Date.now() - stoppedAt;
      stoppedAt = undefined;
    },
  };
})();

/** Starts kubectl, resolves once its output contains `text`, and then with the whole run. */
function kubectlUntil(args: string[], text: string): { seen: Promise<void>; done: Promise<Result> } {
  const env = { ...process.env, KUBECONFIG: t.kubeconfig, HOME: t.dir, KUBECACHEDIR: `${t.dir}/cache` };
  let stdout = '';
  let stderr = '';
  let saw!: () => void;
  const seen = new Promise<void>((r) => (saw = r));
  const child = spawn('kubectl', args, { env, timeout: 60000 });
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    if (stdout.includes(text)) saw();
  });
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<Result>((resolve) => child.on('close', (code) => resolve({ stdout, stderr, code: code ?? 1 })));
  void done.then(saw);
  return { seen, done };
}

beforeAll(async () => {
  // A kubectl too old for websocket exec fails the suite: skipping would leave the sandbox unchecked.
  if (kubectlProblem) throw new Error(kubectlProblem);
  t = await startTestSandbox({ now: clock.now });
});

afterAll(async () => {
  if (!t) return;
  // A controller that threw is a sandbox bug, whatever kubectl made of it.
  expect(t.sandbox.cluster.errors).toEqual([]);
  await t.close();
});

describe('Kubernetes API sandbox checked by kubectl', () => {
  describe('get', () => {
    it('lists the exchange deployments with the server-side table kubectl prints', async () => {
      // act
      const r = await kubectl(['get', 'deployments']);
      // assess
      expect(r.code).toBe(0);
      const table = rows(r.stdout);
      expect(table[0]).toEqual(['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
      const byName = Object.fromEntries(table.slice(1).map((row) => [row[0], row]));
      expect(Object.keys(byName).sort()).toEqual(['matching-engine', 'order-consumer', 'order-service', 'trading-api']);
      expect(byName['trading-api']?.slice(1, 4)).toEqual(['6/6', '6', '6']);
      expect(byName['matching-engine']?.[4]).toMatch(/^\d+d$/);
    });

    it('shows pods with readiness, restarts, IP and node in -o wide', async () => {
      // act
      const r = await kubectl(['get', 'pods', '-l', 'app=matching-engine', '-o', 'wide']);
      // assess
      const table = rows(r.stdout);
      expect(table[0]).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
      expect(table).toHaveLength(4);
      for (const row of table.slice(1)) {
        expect(row[0]).toMatch(/^matching-engine-[bcdfghjklmnpqrstvwxz2456789]+-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
        expect(row.slice(1, 4)).toEqual(['1/1', 'Running', '0']);
        expect(row[5]).toMatch(/^10\.42\.\d+\.\d+$/);
        expect(row[6]).toMatch(/^ip-10-42-\d+-\d+\.ap-northeast-1\.compute\.internal$/);
      }
    });

    it('prints HPA targets as cpu: <current>%/<target>%', async () => {
      // act
      const r = await kubectl(['get', 'hpa', 'trading-api']);
      // assess
      const table = rows(r.stdout);
      expect(table[0]).toEqual(['NAME', 'REFERENCE', 'TARGETS', 'MINPODS', 'MAXPODS', 'REPLICAS', 'AGE']);
      expect(table[1]?.slice(0, 6)).toEqual(['trading-api', 'Deployment/trading-api', expect.stringMatching(/^cpu: \d+%\/70%$/), '6', '20', '6']);
    });

    it('answers a missing object with a NotFound Status that kubectl prints as the server error', async () => {
      // act
      const r = await kubectl(['get', 'deployment', 'no-such-service']);
      // assess
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe('Error from server (NotFound): deployments.apps "no-such-service" not found');
    });

    it('serves nodes, secrets, events and the metrics API as a cluster with metrics-server does', async () => {
      // act
      const nodes = await kubectl(['get', 'nodes']);
      const secrets = await kubectl(['get', 'secrets', '-A', '--field-selector', 'type=kubernetes.io/tls']);
      const top = await kubectl(['top', 'pods', '-n', 'trading', '-l', 'app=order-service']);
      // assess
      expect(rows(nodes.stdout)[0]).toEqual(['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION']);
      expect(rows(nodes.stdout).slice(1).every((n) => n[1] === 'Ready')).toBe(true);
      expect(rows(secrets.stdout)[0]).toEqual(['NAMESPACE', 'NAME', 'TYPE', 'DATA', 'AGE']);
      expect(rows(secrets.stdout).map((s) => s[1])).toEqual(expect.arrayContaining(['api-exchange-tls', 'wallet-mtls']));
      expect(rows(top.stdout)[0]).toEqual(['NAME', 'CPU(cores)', 'MEMORY(bytes)']);
      expect(rows(top.stdout).slice(1)).toHaveLength(4);
    });

    it('names itself a sandbox in a response header', async () => {
      // act
      const header = await new Promise<string | undefined>((resolve, reject) => {
        const req = request(`${t.sandbox.url}/version`, { ca: t.sandbox.ca, headers: { authorization: `Bearer ${t.sandbox.token}` } }, (res) => {
          res.resume();
          resolve(res.headers[SANDBOX_HEADER.toLowerCase()] as string | undefined);
        });
        req.on('error', reject);
        req.end();
      });
      // assess
      expect(header).toMatch(/sandbox/);
    });
  });

  describe('scale and rollout status', () => {
    it('scales through the scale subresource, and rollout status waits until the new pods are available', async () => {
      // act
      const scaled = await kubectl(['scale', 'deployment/order-consumer', '--replicas=6']);
      const status = await kubectl(['rollout', 'status', 'deployment/order-consumer', '--timeout=30s']);
      // assess
      expect(scaled.stdout.trim()).toBe('deployment.apps/order-consumer scaled');
      expect(status.code).toBe(0);
      expect(status.stdout.trim().split('\n').pop()).toBe('deployment "order-consumer" successfully rolled out');
      expect((await json(['get', 'deployment', 'order-consumer'])).status).toMatchObject({ replicas: 6, readyReplicas: 6, availableReplicas: 6, updatedReplicas: 6 });
      expect(t.sandbox.requests.some((q) => q.method === 'PATCH' && q.path.endsWith('/deployments/order-consumer/scale'))).toBe(true);
    });

    it('get events lists the deployment controller\'s ScalingReplicaSet rows, as the server prints them', async () => {
      // prepare: wallet-service goes from 3 to 4 replicas
      await kubectl(['scale', 'deployment/wallet-service', '-n', 'wallet', '--replicas=4']);
      await kubectl(['rollout', 'status', 'deployment/wallet-service', '-n', 'wallet', '--timeout=30s']);
      const [rs] = (await json(['get', 'rs', '-l', 'app=wallet-service', '-n', 'wallet'])).items.filter((x: any) => x.spec.replicas > 0);
      // act
      const r = await kubectl(['get', 'events', '-n', 'wallet', '--field-selector', 'involvedObject.kind=Deployment,involvedObject.name=wallet-service']);
      // assess: the Event table's default columns (printers.go printEvent) and the message of
      // pkg/controller/deployment/sync.go scaleReplicaSet: "Scaled %s replica set %s to %d from %d"
      expect(r.stderr).toBe('');
      const [header, ...events] = rows(r.stdout);
      expect(header).toEqual(['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
      expect(events).toContainEqual([expect.stringMatching(/^\d+s$/), 'Normal', 'ScalingReplicaSet', 'deployment/wallet-service', `Scaled up replica set ${rs.metadata.name} to 4 from 3`]);
      expect(events.every((e) => e[3] === 'deployment/wallet-service')).toBe(true);
    });

    it('validates a server-side dry run and persists nothing', async () => {
      // prepare
      const before = await json(['get', 'deployment', 'order-service']);
      // act
      const r = await kubectl(['scale', 'deployment/order-service', '--replicas=9', '--dry-run=server']);
      // assess
      expect(r.stdout.trim()).toBe('deployment.apps/order-service scaled (server dry run)');
      const after = await json(['get', 'deployment', 'order-service']);
      expect(after.spec.replicas).toBe(before.spec.replicas);
      expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    });
  });

  describe('rollout restart and undo', () => {
    it('restart stamps kubectl.kubernetes.io/restartedAt and rolls every pod', async () => {
      // prepare
      const before = (await json(['get', 'pods', '-l', 'app=settlement-service', '-n', 'settlement'])).items.map((p: any) => p.metadata.name);
      // act
      // (the clock stops so the rollout is still under way when `rollout status` first looks)
      clock.stop();
      const restarted = await kubectl(['rollout', 'restart', 'deployment/settlement-service', '-n', 'settlement']);
      const watching = kubectlUntil(['rollout', 'status', 'deployment/settlement-service', '-n', 'settlement', '--timeout=30s'], 'Waiting for deployment');
      await watching.seen;
      clock.go();
      const status = await watching.done;
      // assess
      expect(restarted.stdout.trim()).toBe('deployment.apps/settlement-service restarted');
      expect(status.stdout).toMatch(/Waiting for deployment "settlement-service" rollout to finish: \d+ (out of 2 new replicas have been updated|old replicas are pending termination|of 2 updated replicas are available)\.\.\./);
      expect(status.stdout.trim().split('\n').pop()).toBe('deployment "settlement-service" successfully rolled out');
      const d = await json(['get', 'deployment', 'settlement-service', '-n', 'settlement']);
      expect(d.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(d.metadata.annotations['deployment.kubernetes.io/revision']).toBe('3');
      // Old pods linger Terminating for a moment after the rollout is complete, as on a cluster.
      await t.sandbox.cluster.until(() => t.sandbox.cluster.store.list(TYPES.pods, { namespace: 'settlement' }).length === 2);
      const after = (await json(['get', 'pods', '-l', 'app=settlement-service', '-n', 'settlement'])).items.map((p: any) => p.metadata.name);
      expect(after.filter((n: string) => before.includes(n))).toEqual([]);
    });

    it('undo returns to the previous ReplicaSet, which takes the next revision', async () => {
      // prepare: CI/CD ships v5.12.1 of the matching engine (revision 3)
      t.sandbox.cluster.deploy('trading', 'matching-engine', 'v5.12.1');
      expect((await kubectl(['rollout', 'status', 'deployment/matching-engine', '--timeout=30s'])).code).toBe(0);
      // act
      const undo = await kubectl(['rollout', 'undo', 'deployment/matching-engine']);
      const status = await kubectl(['rollout', 'status', 'deployment/matching-engine', '--timeout=30s']);
      // assess
      expect(undo.stdout.trim()).toBe('deployment.apps/matching-engine rolled back');
      expect(status.code).toBe(0);
      const d = await json(['get', 'deployment', 'matching-engine']);
      expect(d.spec.template.spec.containers[0].image).toMatch(/matching-engine:v5\.12\.0$/);
      expect(d.metadata.annotations['deployment.kubernetes.io/revision']).toBe('4');
      const rs = (await json(['get', 'rs', '-l', 'app=matching-engine'])).items;
      const current = rs.find((r: any) => r.spec.replicas === 3);
      expect(current.metadata.annotations).toMatchObject({ 'deployment.kubernetes.io/revision': '4', 'deployment.kubernetes.io/revision-history': '2' });
      expect(rs).toHaveLength(3);
      const history = await kubectl(['rollout', 'history', 'deployment/matching-engine']);
      expect(rows(history.stdout).slice(2).map((r) => r[0])).toEqual(['1', '3', '4']);
    });

    it('kubectl refuses to restart or undo a deployment the sandbox reports paused', async () => {
      // prepare
      expect((await kubectl(['rollout', 'pause', 'deployment/order-service'])).stdout.trim()).toBe('deployment.apps/order-service paused');
      // act
      const restart = await kubectl(['rollout', 'restart', 'deployment/order-service']);
      const undo = await kubectl(['rollout', 'undo', 'deployment/order-service']);
      const resumed = await kubectl(['rollout', 'resume', 'deployment/order-service']);
      // assess
      expect(restart.code).toBe(1);
      expect(restart.stderr).toContain("can't restart paused deployment (run rollout resume first)");
      expect(undo.code).toBe(1);
      expect(undo.stderr).toContain("you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again");
      expect(resumed.stdout.trim()).toBe('deployment.apps/order-service resumed');
    });
  });

  describe('patch and set resources', () => {
    it('applies a merge patch, a JSON patch and a strategic merge patch', async () => {
      // act
      const merge = await kubectl(['patch', 'deployment', 'wallet-service', '-n', 'wallet', '--type=merge', '-p', '{"spec":{"revisionHistoryLimit":5}}']);
      const jsonPatch = await kubectl(['patch', 'deployment', 'wallet-service', '-n', 'wallet', '--type=json', '-p', '[{"op":"replace","path":"/spec/template/spec/containers/0/resources/limits/memory","value":"3Gi"}]']);
      const strategic = await kubectl(['patch', 'deployment', 'wallet-service', '-n', 'wallet', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"wallet-service","env":[{"name":"LOG_LEVEL","value":"debug"}]}]}}}}']);
      // assess
      for (const r of [merge, jsonPatch, strategic]) expect(r.stdout.trim()).toBe('deployment.apps/wallet-service patched');
      const d = await json(['get', 'deployment', 'wallet-service', '-n', 'wallet']);
      expect(d.spec.revisionHistoryLimit).toBe(5);
      expect(d.spec.template.spec.containers[0].resources.limits.memory).toBe('3Gi');
      // Strategic merge: the env list merges by name, the container by name: nothing else is lost.
      expect(d.spec.template.spec.containers[0].env.map((e: any) => e.name)).toEqual(['JAVA_TOOL_OPTIONS', 'LOG_LEVEL']);
      expect(d.spec.template.spec.containers[0].readinessProbe.httpGet.path).toBe('/healthz/ready');
      const types = t.sandbox.requests.filter((q) => q.method === 'PATCH' && q.path === '/apis/apps/v1/namespaces/wallet/deployments/wallet-service').map((q) => q.contentType);
      expect(types).toEqual(['application/merge-patch+json', 'application/json-patch+json', 'application/strategic-merge-patch+json']);
    });

    it('a patch that changes nothing reports "patched (no change)" and keeps the resourceVersion', async () => {
      // prepare: the previous test's patches roll out first (the controller writes status until then)
      expect((await kubectl(['rollout', 'status', 'deployment/wallet-service', '-n', 'wallet', '--timeout=30s'])).code).toBe(0);
      const before = await json(['get', 'deployment', 'wallet-service', '-n', 'wallet']);
      // act
      const r = await kubectl(['patch', 'deployment', 'wallet-service', '-n', 'wallet', '--type=merge', '-p', '{"spec":{"revisionHistoryLimit":5}}']);
      // assess
      expect(r.stdout.trim()).toBe('deployment.apps/wallet-service patched (no change)');
      expect((await json(['get', 'deployment', 'wallet-service', '-n', 'wallet'])).metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    });

    it('a JSON patch that cannot apply is a 422 that kubectl reports as an invalid request', async () => {
      // act
      const r = await kubectl(['patch', 'deployment', 'wallet-service', '-n', 'wallet', '--type=json', '-p', '[{"op":"replace","path":"/spec/nothing/here","value":1}]']);
      // assess
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe('The request is invalid: the server rejected our request due to an error in our request');
    });

    it('an HPA max below its min is Invalid, naming the field', async () => {
      // act
      const r = await kubectl(['patch', 'hpa', 'trading-api', '--type=merge', '-p', '{"spec":{"maxReplicas":2}}']);
      // assess
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe('The HorizontalPodAutoscaler "trading-api" is invalid: spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`');
    });

    it('set resources changes limits and requests by strategic merge, and refuses requests above limits', async () => {
      // act
      const ok = await kubectl(['set', 'resources', 'deployment/order-consumer', '-c', 'order-consumer', '--limits=memory=2Gi', '--requests=memory=1200Mi']);
      const bad = await kubectl(['set', 'resources', 'deployment/order-consumer', '-c', 'order-consumer', '--requests=memory=4Gi']);
      // assess
      expect(ok.stdout.trim()).toBe('deployment.apps/order-consumer resource requirements updated');
      const d = await json(['get', 'deployment', 'order-consumer']);
      expect(d.spec.template.spec.containers[0].resources).toEqual({ limits: { cpu: '1', memory: '2Gi' }, requests: { cpu: '500m', memory: '1200Mi' } });
      expect(bad.code).toBe(1);
      // set resources wraps the server's Invalid error (set_resources.go: "failed to patch resources update to pod template %v").
      expect(bad.stderr.trim()).toBe('error: failed to patch resources update to pod template Deployment.apps "order-consumer" is invalid: spec.template.spec.containers[0].resources.requests: Invalid value: "4Gi": must be less than or equal to memory limit of 2Gi');
    });

    it('a write with a stale resourceVersion is a 409 Conflict', async () => {
      // prepare: read, then someone else changes the deployment
      const stale = await json(['get', 'deployment', 'settlement-service', '-n', 'settlement']);
      await kubectl(['annotate', 'deployment/settlement-service', '-n', 'settlement', 'oncall=alice']);
      stale.spec.revisionHistoryLimit = 3;
      // act
      const r = await kubectl(['replace', '-f', '-'], JSON.stringify(stale));
      // assess
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe('Error from server (Conflict): error when replacing "STDIN": Operation cannot be fulfilled on deployments.apps "settlement-service": the object has been modified; please apply your changes to the latest version and try again');
    });
  });

  describe('exec', () => {
    it('runs jmap in a pod over the websocket protocol and keeps the dump in the container', async () => {
      // act
      const dump = await kubectl(['exec', 'deploy/trading-api', '--', 'jmap', '-dump:format=b,file=/tmp/heap.hprof', '1']);
      const ls = await kubectl(['exec', 'deploy/trading-api', '--', 'ls', '-l', '/tmp/heap.hprof']);
      // assess
      expect(dump.code).toBe(0);
      expect(dump.stdout).toMatch(/^Dumping heap to \/tmp\/heap\.hprof \.\.\.\nHeap dump file created \[\d+ bytes in \d+\.\d{3} secs\]\n$/);
      expect(ls.stdout).toMatch(/^-rw------- 1 app app \d+ \w{3} [ \d]\d \d\d:\d\d \/tmp\/heap\.hprof\n$/);
      expect(t.sandbox.requests.some((q) => q.method.endsWith('(upgrade)') && q.path.endsWith('/exec'))).toBe(true);
    });

    it("passes a command's exit code through, as the kubelet's NonZeroExitCode status", async () => {
      // act
      const r = await kubectl(['exec', 'deploy/trading-api', '--', 'sh', '-c', 'exit 3']);
      // assess
      expect(r.code).toBe(3);
      expect(r.stderr.trim()).toBe('command terminated with exit code 3');
    });

    it('a program the image does not have fails as containerd reports it', async () => {
      // act: market-data-ws is a distroless Go image
      const r = await kubectl(['exec', '-n', 'market-data', 'deploy/market-data-ws', '--', 'jmap', '-dump:file=/tmp/h.hprof', '1']);
      // assess
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('exec: "jmap": executable file not found in $PATH');
    });
  });
});
