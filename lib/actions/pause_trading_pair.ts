/** pause_trading_pair: a seed §3.1 blacklisted operation (matching_engine_core). Declared so playbooks naming it get a policy error; never executed. */
import * as z from '../yaml/zod';
import { defineAction } from './define';
import { PolicyViolationError } from '../policy/errors';

export const action = defineAction({
  name: 'pause_trading_pair',
  description: 'Pause or resume a trading pair (seed §3.1).',
  kind: 'remediation',
  mutates: true,
  blacklist: 'matching_engine_core',
  defaultRisk: 'CRITICAL',
  params: z.record(z.string(), z.unknown()),
  outputs: [],
  uses: [],
  iamActions: [],
  async run() {
    throw new PolicyViolationError('pause_trading_pair is a blacklisted operation (matching_engine_core): the agent may only diagnose, ticket, notify and suggest', { category: 'matching_engine_core' });
  },
});
