/** The rule folder: one rule per file, its id its file name, every file listed in RULES. */
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { RULES } from '../../../../lib/policy';

const DIR = path.resolve(__dirname, '../../../../lib/policy/rules');
const files = readdirSync(DIR).filter((f) => f.endsWith('.ts') && f !== 'index.ts' && f !== 'rule.ts').map((f) => f.replace(/\.ts$/, '')).sort();

describe('policy rules', () => {
  it('lists every rule file once in RULES', () => {
    expect(RULES.map((r) => r.id).sort()).toEqual(files);
  });

  it.each(files)('%s takes its id from its file name', (file) => {
    const mod = require(path.join(DIR, file)) as { rule: { id: string; description: string; phases: string[] } };
    expect(mod.rule.id).toBe(file);
    expect(mod.rule.description.length).toBeGreaterThan(20);
    expect(mod.rule.phases.length).toBeGreaterThan(0);
  });

  it('has a test file for each rule', () => {
    const tests = readdirSync(__dirname).filter((f) => f.endsWith('.test.ts')).map((f) => f.replace(/\.test\.ts$/, ''));
    for (const f of files) expect([f, tests.includes(f)]).toEqual([f, true]);
  });
});

describe('formatFinding', () => {
  const { formatFinding } = require('../../../../lib/policy/rules/rule') as typeof import('../../../../lib/policy/rules/rule');
  it('writes rule, field path (indexes in brackets), message and fix on one line', () => {
    expect(formatFinding({ rule: 'r', effect: 'refuse', field: ['params', 'disable', 1], message: 'm', fix: 'f' })).toBe('[r] params.disable[1]: m; fix: f');
    expect(formatFinding({ rule: 'r', effect: 'refuse', field: [], message: 'm', fix: 'f' })).toBe('[r] m; fix: f');
    expect(formatFinding({ rule: 'r', effect: 'needs_approval', field: ['auto_execute'], message: 'm', fix: 'f' })).toBe('[r] auto_execute: m; fix: f');
  });
});
