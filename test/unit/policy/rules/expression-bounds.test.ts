/** expression-bounds: scaling factors within the policy's floor and ceiling (compile time). */
import { findAction } from '../../../../lib/actions';
import { deriveBounds } from '../../../../lib/playbook';
import { facts, findingsOf } from '../../../helpers/step-facts';

const RULE = 'expression-bounds';
function run(action: string, params: Record<string, unknown>) {
  const bounds = deriveBounds({ action: findAction(action)!, params });
  return findingsOf(RULE, facts(action, params, { bounds }), 'compile');
}

describe(RULE, () => {
  it.each([
    ['patch_hpa_max', { deployment: 'trading-api', new_max: 'current_max * 2' }],
    ['patch_hpa_max', { deployment: 'trading-api', new_max: 'current_max * 3' }],
    ['patch_hpa_max', { deployment: 'trading-api', new_max: 'current_max + current_max / 2' }],
    ['patch_hpa_max', { deployment: 'trading-api', new_max: 20 }],
    ['kubectl_scale', { deployment: 'order-consumer', replicas: 'current * 2' }],
    ['rds_parameter_change', { parameter: 'max_connections', new_value: 'current * 1.5' }],
    ['kubectl_patch', { resource: 'deployment/trading-api', patch: 'spec.template.spec.containers[0].resources.limits.memory: "{{current_limit * 1.5}}"' }],
  ])('lets %s %j pass', (action, params) => {
    expect(run(action, params)).toEqual([]);
  });

  it.each([
    ['patch_hpa_max', { deployment: 'trading-api', new_max: 'current_max * 10' }, '10, outside'],
    ['patch_hpa_max', { deployment: 'trading-api', new_max: 'current_max * 0' }, '0, outside'],
    ['patch_hpa_max', { deployment: 'trading-api', new_max: 'current_max * 0.5' }, '0.5, outside'],
    ['patch_hpa_max', { deployment: 'trading-api', new_max: 'current_max + 100' }, 'outside'],
    ['patch_hpa_max', { deployment: 'trading-api', new_max: 'current_max * current_max' }, 'cannot be bounded'],
    ['kubectl_scale', { deployment: 'order-consumer', replicas: 'current * 4' }, 'outside'],
    ['rds_parameter_change', { parameter: 'max_connections', new_value: 'current * 5' }, 'outside'],
    ['kubectl_patch', { resource: 'deployment/trading-api', patch: 'spec.template.spec.containers[0].resources.limits.memory: "{{current_limit * 5}}"' }, 'outside'],
  ])('refuses %s %j (%s)', (action, params, why) => {
    expect(run(action, params).map((f) => f.message).join('; ')).toContain(why);
  });
});
