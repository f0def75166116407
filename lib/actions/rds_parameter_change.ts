/** rds_parameter_change: raise a numeric RDS parameter such as max_connections (scenario 3). */
import { z } from 'zod';
import { numberOrExpression, requireTarget } from './common';
import { defineAction } from './define';
import { actionHandler } from './handler';
import { InvalidParameterError } from './errors';
import type { RdsOps } from './ports';
import { PolicyViolationError } from '../policy/errors';

/** Parameters the agent may raise. Anything touching replication, failover or durability is not here. */
export const TUNABLE_PARAMETERS = ['max_connections', 'wait_timeout', 'interactive_timeout', 'max_user_connections'];

export const action = defineAction({
  name: 'rds_parameter_change',
  description: 'Raise a numeric parameter of the DB parameter group, e.g. max_connections: current * 1.5.',
  kind: 'remediation',
  mutates: true,
  defaultRisk: 'HIGH',
  params: z.strictObject({ parameter: z.string().min(1), new_value: numberOrExpression, parameter_group: z.string().optional() }),
  expressionParams: ['new_value'],
  bounds: { new_value: { local: 'current', floor: 'min_parameter_factor', ceiling: 'max_parameter_factor' } },
  locals: { new_value: ['current'] },
  outputs: ['previous_value', 'new_value'],
  iamActions: ['rds:DescribeDBParameters', 'rds:ModifyDBParameterGroup', 'rds:DescribeDBInstances'],
  targets: () => [{ kind: 'database', name: 'rds' }],
  checkCaps(p) {
    return TUNABLE_PARAMETERS.includes(p.parameter) ? [] : [`parameter "${p.parameter}" is not one the agent may change (allowed: ${TUNABLE_PARAMETERS.join(', ')})`];
  },
  async run(p, ctx) {
    if (!TUNABLE_PARAMETERS.includes(p.parameter)) throw new PolicyViolationError(`rds_parameter_change: parameter "${p.parameter}" is not tunable by the agent`);
    const rds = requireTarget<RdsOps>(ctx, 'rds', 'rds_parameter_change');
    const cur = await rds.describeParameter(p.parameter);
    if (cur.value === undefined) throw new InvalidParameterError(`rds_parameter_change: ${p.parameter} has no numeric value in ${cur.group}`);
    const next = Math.round(Number(ctx.resolve(p.new_value, { current: cur.value }, 'new_value')));
    if (!(next > cur.value)) throw new InvalidParameterError(`rds_parameter_change: new ${p.parameter} ${next} is not above the current ${cur.value}`);
    const cap = cur.value * ctx.policy.caps.max_parameter_factor;
    if (next > cap) throw new PolicyViolationError(`rds_parameter_change: ${p.parameter} ${next} is over ${ctx.policy.caps.max_parameter_factor} × current (${cur.value})`);
    await rds.modifyParameter(p.parameter_group ?? cur.group, p.parameter, next);
    return { summary: `${p.parameter} ${cur.value} → ${next} in ${p.parameter_group ?? cur.group}`, before: { [p.parameter]: cur.value }, after: { [p.parameter]: next }, outputs: { previous_value: cur.value, new_value: next } };
  },
});

/** The Lambda entry point of this action (lib/infra points its function here). */
export const handler = actionHandler(action);
