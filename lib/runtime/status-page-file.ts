/**
 * The status page's component map read from playbooks/status-page.yaml (local engine, tests). A
 * Lambda reads its copy compiled to JSON (lib/runtime/bundled-config.ts): no YAML parser there.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { readYamlSource } from '../yaml/source';
import { statusComponentsFromSource } from './status-page-config';
import type { StatusComponentMap } from './status-notice';

/** `$SRE_AGENT_CONFIG_DIR/status-page.yaml` when set, else beside the playbooks. */
export const DEFAULT_STATUS_PAGE_FILE = path.join(process.env.SRE_AGENT_CONFIG_DIR ?? path.resolve(__dirname, '../../playbooks'), 'status-page.yaml');

/**
 * Reads the component map; a missing file is an empty map (every notice then names "some
 * services", never an internal service name).
 *
 * @throws PlaybookError naming file:line:column and field of every problem
 */
export function loadStatusComponents(file: string = DEFAULT_STATUS_PAGE_FILE): StatusComponentMap {
  if (!existsSync(file)) return {};
  return statusComponentsFromSource(readYamlSource(file));
}
