/** rds_parameter_change: raise a numeric RDS parameter such as max_connections (scenario 3). */
import * as z from '../yaml/zod';
import { numberOrExpression, requireTarget } from './common';
import { defineAction } from './define';
import { InvalidParameterError } from './errors';
import type { RdsOps } from './ports';
import { PolicyViolationError } from '../policy/errors';

/** Parameters the agent may raise. Anything touching replication, failover or durability is not here. */
export const TUNABLE_PARAMETERS = ['max_connections', 'wait_timeout', 'interactive_timeout', 'max_user_connections'];

/** The engines' own upper limits (MySQL 8.0 / MariaDB 10.x server system variables). */
const ENGINE_CEILINGS: Readonly<Record<string, number>> = { max_connections: 100_000, max_user_connections: 4_294_967_295, wait_timeout: 31_536_000, interactive_timeout: 31_536_000 };

export const action = defineAction({
  name: 'rds_parameter_change',
  description: 'Raise a numeric parameter of the DB parameter group, e.g. max_connections: current * 1.5.',
  kind: 'remediation',
  mutates: true,
  defaultRisk: 'HIGH',
  params: z.strictObject({ parameter: z.string().check(z.minLength(1)), new_value: numberOrExpression, parameter_group: z.optional(z.string()) }),
  expressionParams: ['new_value'],
  bounds: { new_value: { local: 'current', floor: 'min_parameter_factor', ceiling: 'max_parameter_factor' } },
  locals: { new_value: ['current'] },
  outputs: ['previous_value', 'new_value'],
  uses: ['rds'],
  iamActions: ['rds:DescribeDBParameters', 'rds:ModifyDBParameterGroup', 'rds:DescribeDBInstances'],
  targets: () => [{ kind: 'database', name: 'rds' }],
  checkCaps(p) {
    return TUNABLE_PARAMETERS.includes(p.parameter) ? [] : [`parameter "${p.parameter}" is not one the agent may change (allowed: ${TUNABLE_PARAMETERS.join(', ')})`];
  },
  async run(p, ctx) {
    if (!TUNABLE_PARAMETERS.includes(p.parameter)) throw new PolicyViolationError(`rds_parameter_change: parameter "${p.parameter}" is not tunable by the agent`);
    const rds = requireTarget<RdsOps>(ctx, 'rds', 'rds_parameter_change');
    // A retried step works from what its first attempt read: "current * 1.5" is applied once.
    const cur = await ctx.remember(`rds:${p.parameter}`, () => rds.describeParameter(p.parameter));
    const where = cur.instance ? `${cur.group} (instance ${cur.instance})` : cur.group;
    if (cur.defaultGroup) {
      throw new InvalidParameterError(
        `rds_parameter_change: ${cur.instance ?? 'the instance'} uses the default parameter group ${cur.group}, which RDS does not let anyone modify; nothing was changed. ` +
          `Fix: create a custom DB parameter group of the same family (copy ${cur.group}), attach it to ${cur.instance ?? 'the instance'} (ModifyDBInstance; it takes effect after a reboot, outside an incident), then this step can raise ${p.parameter}`,
        { target: cur.group },
      );
    }
    if (p.parameter_group !== undefined && p.parameter_group !== cur.group) {
      throw new InvalidParameterError(`rds_parameter_change: parameter_group ${p.parameter_group} is not the group ${cur.instance ?? 'the instance'} uses (${cur.group}); changing it would not reach the database`, { target: p.parameter_group });
    }
    if (cur.modifiable === false) throw new InvalidParameterError(`rds_parameter_change: ${p.parameter} is not modifiable in ${where}`, { target: cur.group });
    if (cur.applyType === 'static') throw new InvalidParameterError(`rds_parameter_change: ${p.parameter} is static in ${where}: it would apply only after a reboot, which the agent never does`, { target: cur.group });
    if (cur.value === undefined) throw new InvalidParameterError(`rds_parameter_change: ${p.parameter} has no numeric value in ${where}${cur.raw ? ` (${cur.raw})` : ''}`, { target: cur.group });
    const next = Math.round(Number(ctx.resolve(p.new_value, { current: cur.value }, 'new_value')));
    if (!Number.isFinite(next) || !(next > cur.value)) throw new InvalidParameterError(`rds_parameter_change: new ${p.parameter} ${next} is not above the current ${cur.value} in ${where}`, { target: cur.group });
    const cap = Math.floor(cur.value * ctx.policy.caps.max_parameter_factor);
    if (next > cap) throw new PolicyViolationError(`rds_parameter_change: ${p.parameter} ${next} is over ${ctx.policy.caps.max_parameter_factor} × current (${cur.value}) = ${cap} (policy caps.max_parameter_factor) in ${where}`);
    const ceiling = ENGINE_CEILINGS[p.parameter];
    if (ceiling !== undefined && next > ceiling) throw new InvalidParameterError(`rds_parameter_change: ${p.parameter} ${next} is over the engine's maximum of ${ceiling}`, { target: cur.group });
    await rds.modifyParameter(cur.group, p.parameter, next);
    const after = await rds.describeParameter(p.parameter);
    const formula = cur.raw && cur.raw !== String(cur.value) ? ` (was ${cur.raw})` : '';
    return {
      summary: `${p.parameter} ${cur.value}${formula} → ${next} in ${where}, applied immediately`,
      before: { group: cur.group, instance: cur.instance ?? null, [p.parameter]: cur.value, raw: cur.raw ?? null },
      after: { group: after.group, instance: after.instance ?? null, [p.parameter]: after.value ?? null, raw: after.raw ?? null },
      outputs: { previous_value: cur.value, new_value: next },
    };
  },
});
