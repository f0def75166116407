/**
 * What a Lambda reads instead of the YAML files: statemachines/config.json (written by `npm run
 * compile`, drift-checked by test/unit/playbook/compile.test.ts), validated by the same schemas.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadRotationFile } from '../../../lib/approval/oncall-file';
import { CompiledConfigError } from '../../../lib/compiled/config';
import { loadCatalogue } from '../../../lib/playbook/catalogue-file';
import { loadPolicy } from '../../../lib/policy/files';
import { bundledConfigFile, loadBundledConfig } from '../../../lib/runtime/bundled-config';
import { loadStatusComponents } from '../../../lib/runtime/status-page-file';
import { PlaybookError } from '../../../lib/yaml';

const ROOT = path.resolve(__dirname, '../../..');
const COMMITTED = path.join(ROOT, 'statemachines/config.json');
const work = mkdtempSync(path.join(tmpdir(), 'sre-agent-config-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A config.json in the work folder with `edit` applied to the committed one. */
function variant(name: string, edit: (json: { files: Record<string, unknown> }) => void): string {
  const json = JSON.parse(readFileSync(COMMITTED, 'utf8')) as { files: Record<string, unknown> };
  edit(json);
  const file = path.join(work, `${name}.json`);
  writeFileSync(file, JSON.stringify(json));
  return file;
}

describe('loadBundledConfig', () => {
  describe('the committed statemachines/config.json', () => {
    const config = loadBundledConfig(COMMITTED);

    it('is what a function reads: $SRE_AGENT_CONFIG_DIR/config.json, else statemachines/', () => {
      expect(bundledConfigFile({ SRE_AGENT_CONFIG_DIR: '/var/task/config' })).toBe('/var/task/config/config.json');
      expect(bundledConfigFile({})).toBe(COMMITTED);
    });

    it('gives the policy and service map of playbooks/policy.yaml and services.yaml', () => {
      const yaml = loadPolicy(path.join(ROOT, 'playbooks/policy.yaml'));
      expect(config.policy().document).toEqual(yaml.document);
      expect(config.policy().services.identify('MATCHING-ENGINE:8080')).toEqual(yaml.services.identify('MATCHING-ENGINE:8080'));
      expect(config.policy().isProtected('trading/matching-engine')).toBe(yaml.isProtected('trading/matching-engine'));
    });

    it('gives the metric catalogue of playbooks/metrics.yaml and the components of status-page.yaml', () => {
      expect(config.catalogue()).toEqual(loadCatalogue(path.join(ROOT, 'playbooks/metrics.yaml')));
      expect(config.statusComponents()).toEqual(loadStatusComponents(path.join(ROOT, 'playbooks/status-page.yaml')));
    });

    it.each(['oncall_sre', 'team_lead', 'dba', 'cto'])('names the same people on call as playbooks/oncall.yaml for %s', async (role) => {
      const at = new Date('2026-03-04T10:00:00Z');
      expect(await config.rotation().whoIs(role, at)).toEqual(await loadRotationFile(path.join(ROOT, 'playbooks/oncall.yaml')).whoIs(role, at));
    });
  });

  describe('a bad file', () => {
    it('throws CompiledConfigError naming a file that cannot be read', () => {
      const missing = path.join(work, 'absent.json');
      expect(() => loadBundledConfig(missing)).toThrow(CompiledConfigError);
      expect(() => loadBundledConfig(missing)).toThrow(`compiled configuration ${missing}`);
    });

    it('throws CompiledConfigError for a file that is not a configuration it knows', () => {
      const file = variant('unknown', (json) => {
        json.files['secrets.yaml'] = {};
      });
      expect(() => loadBundledConfig(file)).toThrow('files.secrets.yaml: not a configuration file');
    });

    it('refuses an invalid policy with a PlaybookError naming the file and the field, when the policy is first read', () => {
      const file = variant('bad-cap', (json) => {
        (json.files['policy.yaml'] as { caps: Record<string, unknown> }).caps.max_replicas = 'many';
      });
      const config = loadBundledConfig(file);
      expect(() => config.policy()).toThrow(PlaybookError);
      expect(() => config.policy()).toThrow(`${file} (policy.yaml):1:1: caps.max_replicas`);
    });

    it('refuses a configuration compiled without the policy, naming the missing part', () => {
      const file = variant('no-policy', (json) => {
        delete json.files['policy.yaml'];
      });
      expect(() => loadBundledConfig(file).policy()).toThrow('files.policy.yaml: missing: playbooks/policy.yaml was not compiled (run npm run compile)');
    });
  });
});
