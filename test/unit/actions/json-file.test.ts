/** The local targets' data-folder JSON documents: absent → default, bad JSON → an error naming the file, written whole. */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { readJsonDocument, writeJsonDocument } from '../../../lib/actions/json-file';

const dir = mkdtempSync(path.join(tmpdir(), 'sre-agent-json-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('data-folder JSON documents', () => {
  it('reads the default when the file is absent, and what was written after, leaving no temporary file', () => {
    const file = path.join(dir, 'sub', 'groups.json');
    expect(readJsonDocument(file, () => ({ groups: {} }), 'elasticache_modify:', 'local-redis')).toEqual({ groups: {} });
    writeJsonDocument(file, { groups: { 'local-redis': { nodeType: 'cache.r6g.xlarge' } } });
    expect(readJsonDocument(file, () => ({ groups: {} }), 'elasticache_modify:', 'local-redis')).toEqual({ groups: { 'local-redis': { nodeType: 'cache.r6g.xlarge' } } });
    expect(readdirSync(path.dirname(file))).toEqual(['groups.json']);
  });

  it('refuses a file that is not JSON, naming it and the target', () => {
    const file = path.join(dir, 'config-store.json');
    writeFileSync(file, '{"config": {');
    expect(() => readJsonDocument(file, () => ({}), 'config store', file)).toThrow(expect.objectContaining({ name: 'ActionError', target: file, message: expect.stringMatching(new RegExp(`^config store ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not valid JSON: `)) }));
  });
});
