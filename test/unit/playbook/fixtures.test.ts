/**
 * Fixture playbooks: every file in test/fixtures/playbooks/bad is refused with exactly the
 * problems its `# expect: <line>:<col> <field> :: <message fragment>` lines list (field `-` for a
 * file-level problem), and every file in test/fixtures/playbooks/good compiles.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { compileFile, PlaybookError, type PlaybookProblem } from '../../../lib/playbook';

const FIXTURES = path.resolve(__dirname, '../../fixtures/playbooks');
const EXPECT = /^# expect: (\d+):(\d+) (\S+) :: (.+)$/;

interface Expectation {
  readonly line: number;
  readonly col: number;
  readonly field: string;
  readonly fragment: string;
}

function fixtures(kind: 'bad' | 'good'): string[] {
  return readdirSync(path.join(FIXTURES, kind)).filter((f) => f.endsWith('.yaml')).sort();
}

/** The `# expect:` lines at the top of a fixture; a malformed one fails the test rather than being skipped. */
function expectations(file: string): Expectation[] {
  const out: Expectation[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('#')) break;
    if (!line.startsWith('# expect:')) continue;
    const m = EXPECT.exec(line);
    if (!m) throw new Error(`${file}: malformed expectation: ${line}`);
    out.push({ line: Number(m[1]), col: Number(m[2]), field: m[3] === '-' ? '' : m[3], fragment: m[4] });
  }
  return out;
}

function problemsOf(file: string): readonly PlaybookProblem[] {
  try {
    compileFile(file);
  } catch (err) {
    if (err instanceof PlaybookError) return err.problems;
    throw err;
  }
  throw new Error(`${path.basename(file)} compiled, but it should be refused`);
}

const show = (p: PlaybookProblem) => `${p.line}:${p.col} ${p.field || '-'} :: ${p.message}`;

describe('bad playbooks', () => {
  it('are at least 30, each with at least one expectation', () => {
    const files = fixtures('bad');
    expect(files.length).toBeGreaterThanOrEqual(30);
    for (const f of files) expect([f, expectations(path.join(FIXTURES, 'bad', f)).length > 0]).toEqual([f, true]);
  });

  it.each(fixtures('bad'))('%s is refused with its expected error', (name) => {
    // prepare
    const file = path.join(FIXTURES, 'bad', name);
    const expected = expectations(file);

    // act
    const problems = problemsOf(file);

    // assess: one problem per expectation (no noise), and each expectation met by its own problem
    expect(problems.map(show)).toHaveLength(expected.length);
    const unmatched = [...problems];
    for (const e of expected) {
      const i = unmatched.findIndex((p) => p.line === e.line && p.col === e.col && p.field === e.field && p.message.includes(e.fragment));
      if (i < 0) throw new Error(`${name}: no problem matches "${e.line}:${e.col} ${e.field || '-'} :: ${e.fragment}"; got:\n${problems.map(show).join('\n')}`);
      unmatched.splice(i, 1);
    }
    for (const p of problems) expect(p.file).toBe(file);
  });
});

describe('good playbooks', () => {
  it.each(fixtures('good'))('%s compiles', (name) => {
    const machine = compileFile(path.join(FIXTURES, 'good', name));
    expect(machine.manifest.playbook).toBe(name.replace(/\.yaml$/, ''));
  });
});
