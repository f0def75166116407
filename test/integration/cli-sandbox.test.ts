/** `sre-agent sandbox`: serves the Kubernetes API sandbox and writes a kubeconfig that the real kubectl can use. */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { run } from '../../bin/cli';
import { serveSandbox } from '../../lib/local/sandbox';

const dir = mkdtempSync(path.join(tmpdir(), 'sre-agent-cli-sandbox-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(['node', 'sre-agent', ...args], { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe('sre-agent sandbox', () => {
  it('says it is a simulated cluster, names the scene and writes a 0600 kubeconfig', async () => {
    // prepare
    const file = path.join(dir, 'once', 'kubeconfig');
    // act
    const r = await cli('sandbox', '--port', '0', '--kubeconfig-out', file, '--once');
    // assess
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Kubernetes API sandbox at https:\/\/127\.0\.0\.1:\d+ — a SIMULATED cluster/);
    expect(r.out).toContain("scene: the seed's exchange from playbooks/services.yaml: 7 deployments in");
    expect(r.out).toContain(`kubeconfig: ${file}`);
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toContain('certificate-authority-data:');
  });

  it('refuses a port that is not one', async () => {
    const r = await cli('sandbox', '--port', 'http', '--once');
    expect(r.code).toBe(1);
    expect(r.err).toBe('sre-agent: --port must be a port number, got "http"\n');
  });

  it('serves what kubectl reads with the kubeconfig it wrote', async () => {
    // prepare
    const file = path.join(dir, 'served', 'kubeconfig');
    const served = await serveSandbox({ port: 0, kubeconfigOut: file, log: () => undefined });
    try {
      // act
      const { stdout } = await promisify(execFile)('kubectl', ['get', 'deployments', '-A', '-o', 'name'], { env: { ...process.env, KUBECONFIG: file, HOME: dir } });
      // assess
      expect(stdout.trim().split('\n').sort()).toEqual(['deployment.apps/market-data-ws', 'deployment.apps/matching-engine', 'deployment.apps/order-consumer', 'deployment.apps/order-service', 'deployment.apps/settlement-service', 'deployment.apps/trading-api', 'deployment.apps/wallet-service']);
    } finally {
      await served.stop();
    }
  });
});
