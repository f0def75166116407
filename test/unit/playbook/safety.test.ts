/** Compile-time safety: the policy rules run over playbooks as written, each finding at its file position. */
import { checkPlaybookSafety, compilePlaybook, loadPlaybookText, PlaybookError } from '../../../lib/playbook';
import { defaultPolicy } from '../../../lib/policy/files';

function playbook(step: string): string {
  return `playbook: p\nrisk: LOW\nsteps:\n${step.replace(/^\n/, '').replace(/^/gm, '  ')}\n`;
}
function problems(yaml: string): string[] {
  return checkPlaybookSafety(loadPlaybookText('p.yaml', yaml), defaultPolicy()).map((p) => `${p.line}:${p.col} ${p.field}: ${p.message}`);
}

describe('checkPlaybookSafety', () => {
  describe('the §3.1 blacklist', () => {
    it.each([
      ['wallet_transfer', 'wallet_operations'],
      ['rds_failover', 'database_writes'],
      ['pause_trading_pair', 'matching_engine_core'],
      ['dns_failover', 'global_operations'],
    ])('refuses %s (%s), even with approval', (action, category) => {
      const found = problems(playbook(`- name: forbidden\n  action: ${action}\n  requires_approval: true\n  approvers: [oncall_sre]`));
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(new RegExp(`^5:13 steps\\[0\\]\\.action: step "forbidden" \\(action ${action}\\): \\[blacklisted-action\\] ${action} is a blacklisted operation, category ${category}: .*; fix: remove the step`));
    });

    it('recognises a blacklisted operation in the parameters of a permitted action', () => {
      expect(problems(playbook('- name: withdraw\n  action: api_call\n  params: { endpoint: "wallet-service:8080/api/withdraw" }\n  requires_approval: true'))[0]).toContain('category wallet_operations: endpoint "wallet-service:8080/api/withdraw" matches "*withdraw*"');
      expect(problems(playbook('- name: fees\n  action: update_config\n  params: { service: trading-api, config: "maker_fee=0" }\n  requires_approval: true'))[0]).toContain('category wallet_operations');
    });

    it('accepts the same action with harmless parameters', () => {
      expect(problems(playbook('- name: gc\n  action: api_call\n  params: { endpoint: "matching-engine:8080/admin/gc" }\n  requires_approval: true'))).toEqual([]);
    });
  });

  describe('the matching engine', () => {
    const gc = '- name: gc\n  action: api_call\n  params: { endpoint: "matching-engine:8080/admin/gc" }\n  risk: LOW\n';
    it('refuses a mutating step on it without requires_approval, even at low risk', () => {
      expect(problems(playbook(`${gc}  auto_execute: true`))).toEqual([
        expect.stringMatching(/^8:19 steps\[0\]\.auto_execute: step "gc" \(action api_call\) runs without approval: \[protected-service-approval\] mutating steps on the matching engine \(matching-engine\) always need approval, even at low risk .*; fix: add requires_approval: true$/),
      ]);
    });
    it('accepts it with requires_approval', () => {
      expect(problems(playbook(`${gc}  requires_approval: true`))).toEqual([]);
    });
    it('lets read-only diagnostics and notifications about it run automatically', () => {
      expect(problems(playbook('- name: diag\n  action: collect_thread_dump_and_metrics\n  params: { service: matching-engine }\n  auto_execute: true'))).toEqual([]);
    });
    it('treats the wallet and settlement services as protected too', () => {
      expect(problems(playbook('- name: scale\n  action: kubectl_scale\n  params: { deployment: wallet-service, replicas: 4 }\n  auto_execute: true'))[0]).toContain('"wallet-service" is a protected service');
    });
  });

  describe('safe defaults', () => {
    it('makes a mutating step that sets neither auto_execute nor requires_approval wait for approval', () => {
      const pb = loadPlaybookText('p.yaml', playbook('- name: restart\n  action: rolling_restart\n  params: { deployment: trading-api }'));
      expect(pb.steps[0]).toMatchObject({ mode: 'approval', approvers: ['oncall_sre'], modeReason: 'safe default: mutating action without auto_execute' });
    });
    it('runs a read-only step that sets neither on its own', () => {
      const pb = loadPlaybookText('p.yaml', playbook('- name: certs\n  action: check_certificates\n  params: { sources: [external_domains] }'));
      expect(pb.steps[0].mode).toBe('auto');
    });
  });

  describe('approvals and risk', () => {
    it('requires approvers on a HIGH-risk approval step', () => {
      expect(problems(playbook('- name: undo\n  action: kubectl_rollout_undo\n  params: { deployment: trading-api }\n  risk: HIGH\n  requires_approval: true'))[0]).toMatch(/^4:5 steps\[0\]\.approvers: step "undo" .* \[approvers-named\] HIGH risk and needs approval: name the approvers/);
    });
    it('refuses a HIGH-risk mutation set to run on its own', () => {
      expect(problems(playbook('- name: undo\n  action: kubectl_rollout_undo\n  params: { deployment: trading-api }\n  auto_execute: true'))[0]).toContain('[high-risk-approval] a HIGH-risk mutation');
    });
    it('refuses auto_execute together with requires_approval', () => {
      expect(problems(playbook('- name: s\n  action: rolling_restart\n  params: { deployment: x }\n  auto_execute: true\n  requires_approval: true'))[0]).toContain('sets both auto_execute and requires_approval');
    });
  });

  describe('caps', () => {
    it('refuses max_kills over the policy ceiling', () => {
      const yaml = playbook('- name: kill\n  action: rds_query\n  params:\n    query: "SELECT id FROM information_schema.processlist WHERE command = \'Sleep\' AND time > 300"\n    follow_up: "KILL {id}"\n    max_kills: 500\n  auto_execute: true');
      expect(problems(yaml).join('\n')).toMatch(/max_kills.*500.*50/);
      expect(() => compilePlaybook(loadPlaybookText('p.yaml', yaml), defaultPolicy(), { sourcePath: 'p.yaml' })).toThrow(PlaybookError);
    });
    it('accepts max_kills within it', () => {
      expect(problems(playbook('- name: kill\n  action: rds_query\n  params:\n    query: "SELECT id FROM information_schema.processlist WHERE command = \'Sleep\' AND time > 300"\n    follow_up: "KILL {id}"\n    max_kills: 20\n  auto_execute: true'))).toEqual([]);
    });
  });
});

describe('checkPlaybookSafety: risk cannot be talked down', () => {
  it('refuses an auto step that lowers a HIGH-risk action to LOW (the runtime guard would refuse it too)', () => {
    const yaml = `playbook: p\nrisk: LOW\nsteps:\n  - name: undo\n    action: kubectl_rollout_undo\n    params: { deployment: trading-api }\n    risk: LOW\n    auto_execute: true\n`;
    expect(problems(yaml)).toEqual([expect.stringMatching(/^8:19 steps\[0\]\.auto_execute: .* \[high-risk-approval\] a HIGH-risk mutation \(HIGH is the registered risk of kubectl_rollout_undo\) never runs without approval/)]);
  });
});
