/**
 * Which cluster `npm start` gives the Kubernetes actions: the kubeconfig asked for (`--kubeconfig`,
 * else KUBECONFIG), the in-process sandbox without one, none with `--no-kube-sandbox`; the banner
 * says which. The "real" cluster here is a second sandbox served on its own, as kind or an EKS
 * cluster would be: the test tells them apart by what each one holds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { KubeOps } from '../../lib/actions/ports';
import { createKubeOps, kubeConfigFromFile } from '../../lib/kube';
import { startLocal, type RunningAgent } from '../../lib/local/main';
import { serveSandbox, type RunningSandbox } from '../../lib/local/sandbox';

const dir = mkdtempSync(path.join(tmpdir(), 'sre-agent-local-kube-'));
let other: RunningSandbox;
let agent: RunningAgent | undefined;
const savedKubeconfig = process.env.KUBECONFIG;

beforeAll(async () => {
  other = await serveSandbox({ port: 0, kubeconfigOut: path.join(dir, 'other-kubeconfig'), log: () => undefined });
});

afterEach(async () => {
  await agent?.stop();
  agent = undefined;
  if (savedKubeconfig === undefined) delete process.env.KUBECONFIG;
  else process.env.KUBECONFIG = savedKubeconfig;
});

afterAll(async () => {
  await other.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function start(options: { kube?: string | false }): Promise<{ agent: RunningAgent; banner: string }> {
  const lines: string[] = [];
  const a = await startLocal({ port: 0, speedUp: 60, ...options, log: (l) => lines.push(l) });
  agent = a;
  return { agent: a, banner: lines.join('\n') };
}

const kubeOf = (a: RunningAgent) => a.engine.dispatchDeps().targets.kube as KubeOps | undefined;
const otherPort = () => new URL(other.url).port;

describe('the Kubernetes target of npm start', () => {
  it('--kubeconfig: the actions act on that cluster, and the banner names its server and context', async () => {
    // act
    const { agent: a, banner } = await start({ kube: other.kubeconfig });
    // assess
    expect(banner).toContain(`kubernetes: https://127.0.0.1:${otherPort()} (context `);
    expect(banner).toContain(`of ${other.kubeconfig})`);
    expect(banner).not.toContain('SANDBOX cluster (simulated');
    // The agent's change shows on that cluster, read with a client of its own.
    await kubeOf(a)!.patchHpaMax({ namespace: 'trading', name: 'order-service' }, 17);
    const direct = createKubeOps({ config: kubeConfigFromFile(other.kubeconfig) });
    expect((await direct.readHpa({ namespace: 'trading', name: 'order-service' })).maxReplicas).toBe(17);
  });

  it('KUBECONFIG when no --kubeconfig is given', async () => {
    process.env.KUBECONFIG = other.kubeconfig;
    const { banner } = await start({});
    expect(banner).toContain(`kubernetes: https://127.0.0.1:${otherPort()} (context `);
  });

  it('without either, the in-process sandbox, and the banner says it is simulated', async () => {
    delete process.env.KUBECONFIG;
    const { agent: a, banner } = await start({});
    expect(banner).toMatch(/kubernetes: the SANDBOX cluster \(simulated, lib\/sandbox\/kube\) at https:\/\/127\.0\.0\.1:\d+/);
    expect(banner).not.toContain(`127.0.0.1:${otherPort()}`);
    expect(kubeOf(a)).toBeDefined();
  });

  it('--no-kube-sandbox without a kubeconfig: no cluster, and the banner says the actions will fail', async () => {
    delete process.env.KUBECONFIG;
    const { agent: a, banner } = await start({ kube: false });
    expect(banner).toContain('kubernetes: none (--no-kube-sandbox); the Kubernetes actions fail with "target not configured"');
    // The schedules run at the engine's speed-up (60× here).
    expect(banner).toMatch(/schedule: certificate-expiry-warning cron\(0 1 \* \* \? \*\), next \S+ \(×60\)/);
    expect(kubeOf(a)).toBeUndefined();
  });

  it('a kubeconfig that does not exist stops the start, naming the file', async () => {
    await expect(start({ kube: path.join(dir, 'missing-kubeconfig') })).rejects.toThrow(/missing-kubeconfig/);
  });
});
