/**
 * The configuration a Lambda bundles: `$SRE_AGENT_CONFIG_DIR/config.json` (statemachines/config.json,
 * written by `npm run compile`), validated by the same schemas as the YAML files it was compiled
 * from. Reading JSON keeps the YAML parsers (`yaml`, `js-yaml`: 160 kB) out of every bundle; a
 * test checks that no Lambda entry reaches them.
 */
import * as path from 'node:path';
import { RotationFile } from '../approval/oncall';
import { readCompiledConfig, type ConfigFileName } from '../compiled/config';
import { catalogueFromSource, type MetricCatalogue } from '../playbook/catalogue';
import { policyFromSource, type Policy } from '../policy/policy';
import { emptyServiceMap, serviceMapFromSource } from '../policy/services';
import { compiledSource, PlaybookError } from '../yaml';
import { statusComponentsFromSource } from './status-page-config';
import type { StatusComponentMap } from './status-notice';

/** What the functions read from the configuration; each part is validated on first use. */
export interface BundledConfig {
  readonly file: string;
  policy(): Policy;
  catalogue(): MetricCatalogue;
  rotation(): RotationFile;
  statusComponents(): StatusComponentMap;
}

/** Where a function finds config.json: `$SRE_AGENT_CONFIG_DIR` (the bundle's `config/`), else statemachines/. */
export function bundledConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.SRE_AGENT_CONFIG_DIR ?? path.resolve(__dirname, '../../statemachines'), 'config.json');
}

/**
 * Reads config.json and validates each part when first asked for.
 * @throws CompiledConfigError for an unreadable file, PlaybookError (file and field) for an invalid part
 */
export function loadBundledConfig(file: string): BundledConfig {
  const { files } = readCompiledConfig(file);
  const source = (name: ConfigFileName) => compiledSource(`${file} (${name})`, files[name]);
  const required = (name: ConfigFileName) => {
    if (!(name in files)) throw new PlaybookError([{ file, line: 1, col: 1, field: `files.${name}`, message: `missing: playbooks/${name} was not compiled (run npm run compile)` }]);
    return source(name);
  };
  const once = <T>(build: () => T): (() => T) => {
    let value: { v: T } | undefined;
    return () => (value ??= { v: build() }).v;
  };
  return {
    file,
    policy: once(() => policyFromSource(required('policy.yaml'), 'services.yaml' in files ? serviceMapFromSource(source('services.yaml')) : emptyServiceMap())),
    catalogue: once(() => catalogueFromSource(required('metrics.yaml'))),
    rotation: once(() => RotationFile.fromSource(required('oncall.yaml'))),
    statusComponents: once(() => ('status-page.yaml' in files ? statusComponentsFromSource(source('status-page.yaml')) : {})),
  };
}

let cached: BundledConfig | undefined;

/** This function's configuration, read once per cold start. */
export function bundledConfig(env: NodeJS.ProcessEnv = process.env): BundledConfig {
  cached ??= loadBundledConfig(bundledConfigFile(env));
  return cached;
}
