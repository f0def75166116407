/** The `sre-agent` CLI: exit codes and what it prints. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { run } from '../../bin/cli';

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(['node', 'sre-agent', ...args], { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe('sre-agent CLI', () => {
  describe('validate', () => {
    it('passes every playbook in playbooks/', async () => {
      const r = await cli('validate');
      expect(r.code).toBe(0);
      expect(r.out.match(/^ok {2}/gm)).toHaveLength(7);
    });

    it('fails with file:line:column, field and message for a bad playbook', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'sre-cli-'));
      const file = path.join(dir, 'bad.yaml');
      writeFileSync(file, 'playbook: bad\nrisk: LOW\nsteps:\n  - name: s\n    action: no_such_action\n');
      const r = await cli('validate', file);
      expect(r.code).toBe(1);
      expect(r.err).toContain(`${file}:5:13: steps[0].action: unknown action "no_such_action"`);
      expect(r.err).toContain('1 problem(s)');
    });

    it('names a missing playbook', async () => {
      const r = await cli('validate', 'no-such-playbook');
      expect(r.code).toBe(1);
      expect(r.err).toContain('no playbook "no-such-playbook"');
    });
  });

  describe('graph', () => {
    it('prints the state tree with transition counts and cost', async () => {
      const r = await cli('graph', 'kafka-consumer-lag');
      expect(r.code).toBe(0);
      expect(r.out).toContain('▶ Start incident');
      expect(r.out).toMatch(/transitions: full remediation path (\d+) \(\$0\.\d{6} per incident\), quiet path \d+/);
    });

    it('prints Mermaid on request', async () => {
      const r = await cli('graph', 'kafka-consumer-lag', '--mermaid');
      expect(r.out.startsWith('flowchart TD\n')).toBe(true);
      expect(r.out).toContain('{"scale_consumer: condition met?"}');
    });
  });

  describe('plan', () => {
    it('shows per step whether it mutates, who approves, its condition, the breakers and caps', async () => {
      const r = await cli('plan', 'rds-connection-exhaustion');
      expect(r.code).toBe(0);
      expect(r.out).toContain('1. kill_idle_connections  [rds_query]');
      expect(r.out).toContain('max_kills 50 (policy 50)');
      expect(r.out).toContain('approval: oncall_sre + dba (2 of 2)');
      expect(r.out).toContain('connections still > 0.9 * max after step 1 (after step kill_idle_connections)');
      expect(r.out).toContain("skipped while the global breaker (diagnose-only), or the breaker of the incident's service or of a service it acts on, is open");
   
    });

    it('says the same factor bounds the compiler checks and the runtime enforces', async () => {
      const r = await cli('plan', 'traffic-surge');
      expect(r.out).toContain('new_max "current_max * 2" scales current_max by 2× (policy 1×..3×)');
      const oom = await cli('plan', 'pod-oom-killed');
      expect(oom.out).toContain('patch "current_limit * 1.5" scales current_limit by 1.5× (policy 1×..2×)');
    });
  });

  describe('compile --check', () => {
    it('reports the committed files up to date', async () => {
      const r = await cli('compile', '--check');
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^up to date: 10 files/); // 7 machines, index.json, config.json, schema.json
    });
  });
});
