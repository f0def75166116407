/**
 * Step names in any script (issue 14): the schema, the loader and the compiler take `扩容`,
 * `ограничение_скорости` or `सूचना` as they take `scale_up`; every state derived from a step name
 * is a valid ASL name (at most 80 Unicode characters, no control or format characters); the
 * JSONPaths that hold a step's results stay RFC 9535 member names; and nothing that names an AWS
 * resource (function placeholders, the machine, alarms) is derived from a step name. Playbook
 * names stay ASCII kebab-case. The refused spellings are fixtures in test/fixtures/playbooks/bad
 * (step-name-*, playbook-name-non-ascii).
 */
import * as path from 'node:path';
import validator from 'asl-validator';
import { aslNameProblem, compileFile, compilePlaybook, loadPlaybookText, MAX_STATE_NAME, PLAYBOOK_NAME, PlaybookError, STEP_NAME } from '../../../lib/playbook';
import { parseCondition } from '../../../lib/compiled/expression';
import { defaultPolicy } from '../../../lib/policy/files';

const FIXTURE = path.resolve(__dirname, '../../fixtures/playbooks/good/step-names-any-script.yaml');
const machine = compileFile(FIXTURE);
const asl = machine.asl;

/** Every JSONPath-looking string in the ASL (keys ending in `.$`, ResultPath, Variable). */
function paths(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) paths(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (typeof v === 'string' && (k.endsWith('.$') || k === 'ResultPath' || k === 'Variable' || k === 'InputPath' || k === 'OutputPath')) out.push(v);
      else paths(v, out);
    }
  }
  return out;
}

describe('step names in any script', () => {
  it('STEP_NAME takes letters of any script, digits and _, and refuses spaces, punctuation, symbols, invisible characters and Latin capitals', () => {
    for (const ok of ['scale_up', '扩容', '通知値班_ロール1', 'ограничение_скорости', 'सूचना', 'إشعار', 'x', 'a'.repeat(48)]) expect([ok, STEP_NAME.test(ok)]).toEqual([ok, true]);
    for (const bad of ['', '1扩容', '_scale', 'Scale_up', 'scale-up', '扩容 api', 'trading.api', "it's", '扩\u200b容', '扩容\u202e', '🚀扩容', '扩容$', 'a'.repeat(49)]) expect([bad, STEP_NAME.test(bad)]).toEqual([bad, false]);
  });

  it('playbook names stay ASCII kebab-case', () => {
    expect(PLAYBOOK_NAME.test('traffic-surge')).toBe(true);
    for (const bad of ['流量飙升', 'traffic-surge-扩容', 'Traffic-Surge', 'traffic_surge']) expect([bad, PLAYBOOK_NAME.test(bad)]).toEqual([bad, false]);
  });

  it('compiles a playbook whose steps are named in Chinese, Japanese, Cyrillic and Devanagari into ASL that asl-validator accepts', () => {
    const result = validator(asl);
    expect(result.errors).toEqual([]);
    expect(Object.keys(asl.States)).toEqual(expect.arrayContaining(['扩容', '扩容: breaker gate', '通知値班_ロール1', 'ограничение_скорости: approval L4 (director + CTO)', 'सूचना: check condition']));
    expect(machine.manifest.steps.map((s) => s.name)).toEqual(['扩容', '通知値班_ロール1', 'ограничение_скорости', 'सूचना', '降级非核心功能降级非核心功能降级非核心功能降级非核心功能降级非核心功能降级非核心功能降级非核心功']);
  });

  it('keeps every state name a valid ASL name, the longest step name (48 characters) included', () => {
    const names = Object.keys(asl.States);
    for (const name of names) expect([name, aslNameProblem(name)]).toEqual([name, undefined]);
    const longest = Math.max(...names.map((n) => [...n].length));
    expect(longest).toBeLessThanOrEqual(MAX_STATE_NAME);
    expect(longest).toBeGreaterThan(70); // the 48-character name's approval states come close
  });

  it('keeps the step results at JSONPath member names (RFC 9535 shorthand: non-ASCII letters allowed, no dots or spaces)', () => {
    const stepPaths = paths(asl).filter((p) => p.startsWith('$.run.'));
    expect(stepPaths).toEqual(expect.arrayContaining(['$.run.steps.扩容', '$.run.gates.扩容.mode', '$.run.checks.ограничение_скорости.result', '$.run.errors.सूचना']));
    for (const p of stepPaths) expect([p, /^\$(\.[\p{L}\p{M}\p{N}_]+)+$/u.test(p)]).toEqual([p, true]);
  });

  it('derives no resource name from a step name: function placeholders, the machine file, its alarms and its actions are ASCII', () => {
    const ascii = /^[\x21-\x7e]+$/;
    for (const s of machine.manifest.substitutions) expect([s, ascii.test(s)]).toEqual([s, true]);
    for (const state of Object.values(asl.States)) {
      const fn = (state.Parameters as { FunctionName?: string } | undefined)?.FunctionName;
      if (fn !== undefined) expect([fn, ascii.test(fn)]).toEqual([fn, true]);
      expect(String(state.Resource ?? 'none')).toMatch(ascii);
    }
    expect(machine.manifest.file).toBe('statemachines/step-names-any-script.asl.json');
    expect(JSON.stringify(machine.manifest.trigger)).toMatch(/^[\x20-\x7e]*$/);
    for (const a of machine.manifest.actions) expect(a).toMatch(/^[a-z_]+$/);
  });

  it('lets a condition name an earlier step in its script (`after 扩容`), and still refuses a value spelled outside ASCII', () => {
    expect(parseCondition('latency_p99 still > 200ms after 扩容').timing).toEqual({ kind: 'after_step', step: '扩容', text: 'after 扩容' });
    expect(machine.manifest.steps[2]).toMatchObject({ name: 'ограничение_скорости' });
    expect(asl.States['ограничение_скорости: check condition']?.Parameters).toMatchObject({ Payload: { after_step: '扩容' } });
    expect(() => parseCondition('延迟 > 200ms')).toThrow("unexpected character '延'");
  });

  it('refuses a condition that waits for a later step named in another script, naming it', () => {
    const yaml = `playbook: inline
risk: LOW
steps:
  - name: 通知
    condition: "latency_p99 > 200ms after 升级"
    action: send_alert
    params: { severity: LOW, channels: [slack], message: latency is high }
  - name: 升级
    action: send_alert
    params: { severity: HIGH, channels: [pagerduty], message: latency is still high }
`;
    let error: unknown;
    try {
      compilePlaybook(loadPlaybookText('inline.yaml', yaml), defaultPolicy(), { sourcePath: 'inline.yaml' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PlaybookError);
    expect((error as PlaybookError).problems.map((p) => `${p.line}:${p.col} ${p.field}: ${p.message}`)).toEqual(['5:37 steps[0].condition: step "通知": "after 升级" names step 2, which does not come before this one']);
  });
});

describe('aslNameProblem', () => {
  it.each([
    ['a'.repeat(81), 'is 81 characters long; ASL allows 80'],
    ['扩'.repeat(81), 'is 81 characters long; ASL allows 80'],
    ['', 'is empty'],
    ['step\u0007', 'holds the control or format character U+0007'],
    ['扩\u200b容', 'holds the control or format character U+200B'],
    ['x\u202e', 'holds the control or format character U+202E'],
    [' step', 'starts or ends with a space'],
  ])('refuses %j: %s', (name, problem) => {
    expect(aslNameProblem(name)).toBe(problem);
  });

  it('counts characters, not UTF-16 units: 80 CJK characters (or ones outside the BMP) are allowed', () => {
    expect(aslNameProblem('扩'.repeat(80))).toBeUndefined();
    expect(aslNameProblem('𠀀'.repeat(80))).toBeUndefined();
  });
});

