/**
 * parseYamlSource reads values with js-yaml and positions with the `yaml` package. The fast path
 * is only sound if, whenever js-yaml accepts a file, `yaml` accepts it too and reads the same value.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as jsyaml from 'js-yaml';
import { parseDocument } from 'yaml';
import { PlaybookError } from '../../../lib/playbook';
import { parseYamlSource } from '../../../lib/yaml/source';

const ROOT = path.join(__dirname, '../../..');
const files = [
  ...['playbooks', 'test/fixtures/playbooks/bad', 'test/fixtures/playbooks/good'].flatMap((dir) =>
    readdirSync(path.join(ROOT, dir)).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join(dir, f)),
  ),
];

describe('parseYamlSource', () => {
  it.each(files)('%s: js-yaml and yaml agree wherever js-yaml accepts the text', (file) => {
    const text = readFileSync(path.join(ROOT, file), 'utf8');
    let fast: unknown;
    try {
      fast = jsyaml.load(text, { schema: jsyaml.CORE_SCHEMA });
    } catch {
      return; // the loader falls back to `yaml`, whose errors carry the positions
    }
    const doc = parseDocument(text, { uniqueKeys: true });
    expect(doc.errors).toEqual([]);
    expect(fast).toEqual(doc.toJS());
  });

  it('reads YAML 1.2 core values, not YAML 1.1 ones (yes/no stay strings, no timestamps)', () => {
    expect(parseYamlSource('x.yaml', 'a: yes\nb: 2026-02-09\nc: 0o14\n').value).toEqual({ a: 'yes', b: '2026-02-09', c: 12 });
  });

  it('reports a syntax error at its position through the `yaml` package', () => {
    expect(() => parseYamlSource('bad.yaml', 'steps:\n  - name: "unclosed\n')).toThrow(PlaybookError);
    try {
      parseYamlSource('bad.yaml', 'a: 1\na: 2\n');
    } catch (err) {
      expect((err as PlaybookError).problems[0]).toMatchObject({ file: 'bad.yaml', line: 2, col: 1, message: expect.stringContaining('DUPLICATE_KEY') });
    }
    expect.assertions(2);
  });
});
