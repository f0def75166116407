/**
 * api_call's allow-list holds services by identity, not the first label of whatever host is
 * written: on the old code `http://matching-engine.attacker.example:8080/admin/gc` normalised to
 * the allow-listed `matching-engine:8080/admin/gc` and that foreign URL was called; so were another
 * namespace's `matching-engine.wallet` and `matching-engine.evil.com.`. Query strings and request
 * bodies were never held against the blacklist (`?op=%68alt` halts trading). Each attack runs at
 * the three layers a playbook passes: the compiler, the runtime rules, the action itself.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ACTIONS, type ActionDefinition } from '../../lib/actions';
import type { HttpOps } from '../../lib/actions/ports';
import { compileFile, PlaybookError } from '../../lib/playbook';
import { decideStep } from '../../lib/policy';
import { actionContext } from '../helpers/action-context';
import { facts } from '../helpers/step-facts';
import { defaultPolicy } from '../../lib/policy/files';

const apiCall = ACTIONS.api_call as ActionDefinition<Record<string, unknown>>;
const dir = mkdtempSync(path.join(tmpdir(), 'sre-agent-endpoints-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Compiles a one-step playbook calling `endpoint` (behind approval: only the endpoint is at stake). */
function compileCall(endpoint: string, body?: unknown): string[] {
  const name = `endpoint-${Math.random().toString(36).slice(2, 8)}`;
  const file = path.join(dir, `${name}.yaml`);
  const params = { endpoint, ...(body === undefined ? {} : { body }) };
  writeFileSync(file, `playbook: ${name}\nrisk: MEDIUM\nsteps:\n  - name: call_admin\n    action: api_call\n    params: ${JSON.stringify(params)}\n    requires_approval: true\n    approvers: [oncall_sre, matching_engine_owner]\n`);
  try {
    compileFile(file);
    return [];
  } catch (err) {
    if (err instanceof PlaybookError) return err.problems.map((p) => p.message);
    throw err;
  }
}

/** What the runtime guard's rules refuse for these (already resolved) parameters. */
function runtimeRefusals(params: Record<string, unknown>): string[] {
  return decideStep(facts('api_call', params, { mode: 'approval', approvers: ['oncall_sre', 'matching_engine_owner'] }), defaultPolicy()).refusals.map((f) => f.message);
}

/** Runs the action itself with a recording HTTP client: what URL it would call, or why it would not. */
async function called(params: Record<string, unknown>): Promise<{ urls: string[]; error?: string }> {
  const urls: string[] = [];
  const http: HttpOps = { request: async (method, url) => (urls.push(`${method} ${url}`), { status: 200, body: 'ok' }) };
  try {
    await apiCall.run(apiCall.params.parse(params) as Record<string, unknown>, actionContext({ targets: { http } }));
    return { urls };
  } catch (err) {
    return { urls, error: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

describe('api_call endpoints by identity', () => {
  it.each([
    ['http://matching-engine.attacker.example:8080/admin/gc', 'not a service of this cluster'],
    ['matching-engine.evil.com.:8080/admin/gc', 'not a service of this cluster'],
    ['matching-engine.trading.svc.cluster.local.attacker.example:8080/admin/gc', 'not a service of this cluster'],
    ['matching-engine.wallet:8080/admin/gc', 'names namespace wallet, but matching-engine runs in trading'],
    ['http://matching-engine.wallet.svc.cluster.local:8080/admin/gc', 'names namespace wallet'],
    ['http://[::1]:8080/admin/gc', 'IP address'],
    ['http://127.0.0.1:8080/admin/gc', 'IP address'],
    ['redis-cache.default:8080/admin/gc', 'does not run on Kubernetes'],
  ])('%s is refused by the compiler, the runtime rules and the action (%s)', async (endpoint, why) => {
    expect(compileCall(endpoint).join('; ')).toContain(why);
    expect(runtimeRefusals({ endpoint, method: 'POST' }).join('; ')).toContain(why);
    const run = await called({ endpoint });
    expect(run.urls).toEqual([]);
    expect(run.error).toContain(why);
  });

  it.each([
    ['matching-engine:8080/admin/gc?pair=BTC-USDT&op=%68alt', 'matching_engine_core'],
    ['matching-engine:8080/admin/gc?op=%2568alt', 'double encoding'],
    ['matching-engine:8080/admin/gc?next=/wallet/withdraw', 'wallet_operations'],
    ['matching-engine:8080/admin/gc?x=1&%77ithdraw=1', 'wallet_operations'],
  ])('a query string is held against the blacklist after decoding: %s (%s)', async (endpoint, why) => {
    expect(compileCall(endpoint).join('; ')).toContain(why);
    expect(runtimeRefusals({ endpoint, method: 'POST' }).join('; ')).toContain(why);
    expect((await called({ endpoint })).urls).toEqual([]);
  });

  it.each([
    [{ op: 'halt', pair: 'BTC-USDT' }, 'matching_engine_core'],
    [{ action: 'Withdraw', to: 'cold-wallet' }, 'wallet_operations'],
    ['op=%68alt&pair=BTC-USDT', 'matching_engine_core'],
    ['{"steps":[{"do":"maintenance"}]}', 'global_operations'],
  ])('a request body is held against the blacklist: %j (%s)', async (body, why) => {
    const endpoint = 'matching-engine:8080/admin/gc';
    expect(compileCall(endpoint, body).join('; ')).toContain(why);
    expect(runtimeRefusals({ endpoint, method: 'POST', body }).join('; ')).toContain(why);
    expect((await called({ endpoint, body })).urls).toEqual([]);
  });

  it.each([
    'matching-engine:8080/admin/gc',
    'MATCHING-ENGINE:8080/admin/gc',
    'matching-engine.trading:8080/admin/gc',
    'http://matching-engine.trading.svc:8080/admin/gc',
    'http://matching-engine.trading.svc.cluster.local.:8080/admin/gc',
  ])('safe twin: %s passes every layer and the cluster DNS name of the mapped service is what is called', async (endpoint) => {
    expect(compileCall(endpoint)).toEqual([]);
    expect(runtimeRefusals({ endpoint, method: 'POST' })).toEqual([]);
    expect(await called({ endpoint, body: { full: true } })).toEqual({ urls: ['POST http://matching-engine.trading.svc.cluster.local:8080/admin/gc'] });
  });

  it('safe twin: a harmless query and body pass, and the query is called as it was checked', async () => {
    const endpoint = 'matching-engine:8080/admin/gc?pair=BTC-USDT&mode=young';
    expect(compileCall(endpoint, { reason: 'latency' })).toEqual([]);
    expect((await called({ endpoint, body: { reason: 'latency' } })).urls).toEqual(['POST http://matching-engine.trading.svc.cluster.local:8080/admin/gc?pair=BTC-USDT&mode=young']);
  });
});
