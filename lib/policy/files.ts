/**
 * The policy and the service map read from their YAML files (the compiler, the CLI, the local
 * engine, tests). A Lambda reads the copies compiled to JSON instead
 * (lib/runtime/bundled-config.ts), so its bundle carries no YAML parser.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { readYamlSource } from '../yaml/source';
import { policyFromSource, type Policy } from './policy';
import { emptyServiceMap, serviceMapFromSource, type ServiceMap } from './services';

const PLAYBOOK_DIR = path.resolve(__dirname, '../../playbooks');

/** Default location of the policy file: `$SRE_AGENT_CONFIG_DIR/policy.yaml` when set, else beside the playbooks. */
export const DEFAULT_POLICY_FILE = path.join(process.env.SRE_AGENT_CONFIG_DIR ?? PLAYBOOK_DIR, 'policy.yaml');

/** Default location of the service map: beside policy.yaml. */
export const DEFAULT_SERVICES_FILE = path.join(process.env.SRE_AGENT_CONFIG_DIR ?? PLAYBOOK_DIR, 'services.yaml');

/** Reads and validates a service map; every problem names file:line:column and field. */
export function loadServiceMap(file: string = DEFAULT_SERVICES_FILE): ServiceMap {
  return serviceMapFromSource(readYamlSource(file));
}

/**
 * Reads and validates a policy file and the service map beside it (`services.yaml`, when there
 * is one); every problem names file:line:column and field.
 */
export function loadPolicy(file: string = DEFAULT_POLICY_FILE, servicesFile: string = path.join(path.dirname(file), 'services.yaml')): Policy {
  const src = readYamlSource(file);
  return policyFromSource(src, existsSync(servicesFile) ? loadServiceMap(servicesFile) : emptyServiceMap());
}

let cached: Policy | undefined;
/** The default policy, loaded once per process. */
export function defaultPolicy(): Policy {
  cached ??= loadPolicy();
  return cached;
}
