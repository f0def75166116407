/** dns_failover: a seed §3.1 blacklisted operation (global_operations). Declared so playbooks naming it get a policy error; never executed. */
import * as z from '../yaml/zod';
import { defineAction } from './define';
import { PolicyViolationError } from '../policy/errors';

export const action = defineAction({
  name: 'dns_failover',
  description: 'Switch DNS / fail over across regions (seed §3.1).',
  kind: 'remediation',
  mutates: true,
  blacklist: 'global_operations',
  defaultRisk: 'CRITICAL',
  params: z.record(z.string(), z.unknown()),
  outputs: [],
  uses: [],
  iamActions: [],
  async run() {
    throw new PolicyViolationError('dns_failover is a blacklisted operation (global_operations): the agent may only diagnose, ticket, notify and suggest', { category: 'global_operations' });
  },
});
