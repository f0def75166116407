/** rds_failover: a seed §3.1 blacklisted operation (database_writes). Declared so playbooks naming it get a policy error; never executed. */
import * as z from '../yaml/zod';
import { defineAction } from './define';
import { PolicyViolationError } from '../policy/errors';

export const action = defineAction({
  name: 'rds_failover',
  description: 'Fail an RDS instance over to its standby (seed §3.1: RDS Failover).',
  kind: 'remediation',
  mutates: true,
  blacklist: 'database_writes',
  defaultRisk: 'CRITICAL',
  params: z.record(z.string(), z.unknown()),
  outputs: [],
  uses: [],
  iamActions: [],
  async run() {
    throw new PolicyViolationError('rds_failover is a blacklisted operation (database_writes): the agent may only diagnose, ticket, notify and suggest', { category: 'database_writes' });
  },
});
