/**
 * Outputs of a step that did not run (seed scenario 6: the heap dump skipped by `on_fail: skip`):
 * a ticket still opens and shows them as unavailable; a mutating action still refuses to guess.
 */
import { action as createTicket } from '../../../lib/actions/create_ticket';
import { action as rollingRestart } from '../../../lib/actions/rolling_restart';
import { renderText, resolveParams, UNAVAILABLE } from '../../../lib/actions/resolve';
import type { ActionDefinition } from '../../../lib/actions';

type Def = ActionDefinition<Record<string, unknown>>;
const followUp = {
  title: '{{service}} OOMKilled - 需要排查内存泄漏',
  priority: 'HIGH',
  description: 'Pod 频繁 OOMKilled，已临时增大内存限制。\n堆转储已保存: {{heap_dump_path}}\n',
};

describe('Function: resolveParams (skipped outputs)', () => {
  it('renders an output of a skipped step as unavailable in a ticket, and keeps the rest', () => {
    // prepare: capture_heap_dump failed and was skipped: no heap_dump_path in the execution
    const vars = { service: 'trading-api' };

    // act
    const params = resolveParams(createTicket as unknown as Def, followUp, vars, 'create_followup_ticket');

    // assess
    expect(params.title).toBe('trading-api OOMKilled - 需要排查内存泄漏');
    expect(params.description).toBe(`Pod 频繁 OOMKilled，已临时增大内存限制。\n堆转储已保存: ${UNAVAILABLE}\n`);
  });

  it('shows the value when the step ran', () => {
    const params = resolveParams(createTicket as unknown as Def, followUp, { service: 'trading-api', heap_dump_path: 'trading-api-7d9f:/tmp/heap.hprof' }, 'create_followup_ticket');

    expect(params.description).toContain('堆转储已保存: trading-api-7d9f:/tmp/heap.hprof');
  });

  it('still fails a mutating action whose parameter names a missing output, naming step, parameter and variable', () => {
    expect(() => resolveParams(rollingRestart as unknown as Def, { deployment: '{{leaking_service}}' }, {}, 'restart_leaking_pods')).toThrow(
      'step "restart_leaking_pods" parameter "deployment": variable "leaking_service" has no value in this execution',
    );
  });
});

describe('Function: renderText', () => {
  it.each([
    ['{{HIGH if days < 7 else MEDIUM}}', { days: 5 }, 'HIGH'],
    ['{{HIGH if days < 7 else MEDIUM}}', { days: 20 }, 'MEDIUM'],
    ['{{HIGH if days < 7 else MEDIUM}}', {}, UNAVAILABLE],
    ['证书即将到期: {{cert_name}} ({{days_remaining}} 天)', { cert_name: 'api.example.com', days_remaining: 5 }, '证书即将到期: api.example.com (5 天)'],
    ['no template', {}, 'no template'],
  ])('%s with %j → %s', (template, vars, expected) => {
    expect(renderText(template, vars)).toBe(expected);
  });
});
