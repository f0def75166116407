/**
 * update_config and feature_flags adapters (seed scenario 1): the rate-limit parser, Parameter
 * Store through aws-sdk-client-mock (GetParameter, GetParameters, PutParameter, DeleteParameter
 * request/response shapes), and the local file store the drills use.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DeleteParameterCommand, GetParameterCommand, GetParametersCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { FileConfigStore } from '../../../../lib/actions/config/file-config';
import { parseRateLimit } from '../../../../lib/actions/config/rate-limit';
import { SsmConfig } from '../../../../lib/actions/config/ssm-config';
import { action as featureFlags } from '../../../../lib/actions/feature_flags';
import { action as updateConfig } from '../../../../lib/actions/update_config';
import { actionContext } from '../../../helpers/action-context';
import { loadPolicy } from '../../../../lib/policy/files';

const ssmMock = mockClient(SSMClient);
let dir: string;

beforeEach(() => {
  ssmMock.reset();
  dir = mkdtempSync(path.join(tmpdir(), 'sre-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('Function: parseRateLimit', () => {
  it.each([
    ['1000 req/s per user', { requests: 1000, per_seconds: 1, scope: 'user' }],
    ['60 requests/min per ip', { requests: 60, per_seconds: 60, scope: 'ip' }],
    ['5000 req/s', { requests: 5000, per_seconds: 1, scope: 'global' }],
    ['  20 REQ / H per API_KEY ', { requests: 20, per_seconds: 3600, scope: 'api_key' }],
  ])('%j → %j', (text, expected) => {
    expect(parseRateLimit(text)).toEqual(expected);
  });

  it.each(['fast', '0 req/s', '1000 req/day', '1000 req/s per planet', ''])('refuses %j, naming the field and the accepted form', (text) => {
    expect(() => parseRateLimit(text)).toThrow(/rate_limit ".*" is not a rate limit; write "<n> req\/<s\|min\|h>/);
  });
});

describe('update_config (traffic-surge enable_rate_limiting)', () => {
  const params = { service: 'trading-api', config: 'rate_limit_enabled=true', rate_limit: '1000 req/s per user' };

  it('sets rate_limit_enabled and the structured limit in the local store, recording before and after', async () => {
    // prepare
    const store = new FileConfigStore(path.join(dir, 'config-store.json'));
    await store.set('trading-api', { rate_limit_enabled: 'false' });

    // act
    const result = await updateConfig.run(params, actionContext({ targets: { config: store }, policy: loadPolicy() }));

    // assess
    const file = JSON.parse(readFileSync(path.join(dir, 'config-store.json'), 'utf8'));
    expect(file.config['trading-api']).toEqual({ rate_limit_enabled: 'true', rate_limit: '{"requests":1000,"per_seconds":1,"scope":"user"}' });
    expect(result.before).toEqual({ service: 'trading-api', store: store.name, config: { rate_limit_enabled: 'false', rate_limit: null } });
    expect(result.after).toEqual({ service: 'trading-api', store: store.name, config: { rate_limit_enabled: 'true', rate_limit: '{"requests":1000,"per_seconds":1,"scope":"user"}' } });
  });

  it('refuses a rate limit it cannot parse and writes nothing', async () => {
    const store = new FileConfigStore(path.join(dir, 'config-store.json'));

    await expect(updateConfig.run({ ...params, rate_limit: 'lots' }, actionContext({ targets: { config: store } }))).rejects.toMatchObject({ name: 'InvalidParameterError', message: expect.stringContaining('rate_limit "lots"') });
    expect(store.read()).toEqual({ config: {}, flags: {} });
    expect(updateConfig.checkCaps!({ ...params, rate_limit: 'lots' }, loadPolicy())[0]).toContain('rate_limit "lots"');
  });

  it('writes one Parameter Store parameter per key (PutParameter, Overwrite) and reads the before values', async () => {
    // prepare: rate_limit_enabled exists, rate_limit does not
    ssmMock.on(GetParameterCommand, { Name: '/sre-agent/config/trading-api/rate_limit_enabled' }).resolvesOnce({ Parameter: { Name: '/sre-agent/config/trading-api/rate_limit_enabled', Value: 'false', Type: 'String', Version: 3 } }).resolves({ Parameter: { Value: 'true' } });
    ssmMock.on(GetParameterCommand, { Name: '/sre-agent/config/trading-api/rate_limit' }).rejectsOnce(Object.assign(new Error('not found'), { name: 'ParameterNotFound' })).resolves({ Parameter: { Value: '{"requests":1000,"per_seconds":1,"scope":"user"}' } });
    ssmMock.on(PutParameterCommand).resolves({ Version: 4, Tier: 'Standard' });
    const store = new SsmConfig({ client: new SSMClient({ region: 'us-east-1' }) });

    // act
    const result = await updateConfig.run(params, actionContext({ targets: { config: store } }));

    // assess
    expect(ssmMock.commandCalls(PutParameterCommand).map((c) => c.args[0].input)).toEqual([
      { Name: '/sre-agent/config/trading-api/rate_limit_enabled', Value: 'true', Type: 'String', Overwrite: true, Description: 'set by sre-agent' },
      { Name: '/sre-agent/config/trading-api/rate_limit', Value: '{"requests":1000,"per_seconds":1,"scope":"user"}', Type: 'String', Overwrite: true, Description: 'set by sre-agent' },
    ]);
    expect(result.before).toMatchObject({ config: { rate_limit_enabled: 'false', rate_limit: null } });
  });

  it('retries a throttled PutParameter (TransientTargetError naming the parameter)', async () => {
    ssmMock.on(GetParameterCommand).rejects(Object.assign(new Error('not found'), { name: 'ParameterNotFound' }));
    ssmMock.on(PutParameterCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    await expect(updateConfig.run(params, actionContext({ targets: { config: new SsmConfig({ client: new SSMClient({ region: 'us-east-1' }) }) } }))).rejects.toMatchObject({ name: 'TransientTargetError', target: '/sre-agent/config/trading-api/rate_limit_enabled' });
  });

  it('refuses a key that would climb the parameter hierarchy before writing anything', async () => {
    const store = new SsmConfig({ client: new SSMClient({ region: 'us-east-1' }) });

    await expect(store.set('trading-api', { ok: '1', '../wallet/fee': '0' })).rejects.toMatchObject({ name: 'InvalidParameterError', target: '../wallet/fee' });
    expect(ssmMock.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  it('fails without a config target instead of pretending', async () => {
    await expect(updateConfig.run(params, actionContext())).rejects.toMatchObject({ name: 'TargetNotConfiguredError' });
  });
});

describe('feature_flags (traffic-surge degrade_non_critical)', () => {
  const params = { disable: ['market_history_api', 'leaderboard_api', 'notification_service'], enable: [] as string[] };

  it('turns the flags off in the local store and records what they were', async () => {
    const store = new FileConfigStore(path.join(dir, 'config-store.json'));
    await store.setFlags({ market_history_api: true, leaderboard_api: true });

    const result = await featureFlags.run(params, actionContext({ targets: { config: store } }));

    expect(store.read().flags.global).toEqual({ market_history_api: false, leaderboard_api: false, notification_service: false });
    expect(result.before).toMatchObject({ flags: { market_history_api: true, leaderboard_api: true, notification_service: null } });
    expect(result.after).toMatchObject({ flags: { market_history_api: false, leaderboard_api: false, notification_service: false } });
  });

  it('reads flags from Parameter Store in batches of 10 (GetParameters) and deletes with DeleteParameter', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `feature_${i}`);
    ssmMock.on(GetParametersCommand).callsFake((input: { Names: string[] }) => ({ Parameters: input.Names.filter((n) => n.endsWith('_1')).map((n) => ({ Name: n, Value: 'true' })), InvalidParameters: input.Names.filter((n) => !n.endsWith('_1')) }));
    ssmMock.on(DeleteParameterCommand).resolves({});
    const store = new SsmConfig({ client: new SSMClient({ region: 'us-east-1' }), prefix: '/exchange/' });

    const flags = await store.getFlags(names, 'trading-api');
    await store.setFlags({ feature_3: null }, 'trading-api');

    expect(ssmMock.commandCalls(GetParametersCommand).map((c) => c.args[0].input.Names?.length)).toEqual([10, 2]);
    expect(flags.feature_1).toBe(true);
    expect(flags.feature_2).toBeUndefined();
    expect(ssmMock.commandCalls(DeleteParameterCommand)[0]!.args[0].input).toEqual({ Name: '/exchange/flags/trading-api/feature_3' });
  });
});
