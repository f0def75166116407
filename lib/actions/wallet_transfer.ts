/** wallet_transfer: a seed §3.1 blacklisted operation (wallet_operations). Declared so playbooks naming it get a policy error; never executed. */
import * as z from '../yaml/zod';
import { defineAction } from './define';
import { PolicyViolationError } from '../policy/errors';

export const action = defineAction({
  name: 'wallet_transfer',
  description: 'Move funds between hot and cold wallets (seed §3.1).',
  kind: 'remediation',
  mutates: true,
  blacklist: 'wallet_operations',
  defaultRisk: 'CRITICAL',
  params: z.record(z.string(), z.unknown()),
  outputs: [],
  uses: [],
  iamActions: [],
  async run() {
    throw new PolicyViolationError('wallet_transfer is a blacklisted operation (wallet_operations): the agent may only diagnose, ticket, notify and suggest', { category: 'wallet_operations' });
  },
});
