/**
 * The rotation file read from YAML (playbooks/oncall.yaml: local engine, CLI, tests). A Lambda
 * reads its copy compiled to JSON (lib/runtime/bundled-config.ts): no YAML parser there.
 */
import * as path from 'node:path';
import { parseYamlSource, readYamlSource } from '../yaml/source';
import { RotationFile } from './oncall';

/** `$SRE_AGENT_CONFIG_DIR/oncall.yaml` when set, else beside the playbooks. */
export const DEFAULT_ONCALL_FILE = path.join(process.env.SRE_AGENT_CONFIG_DIR ?? path.resolve(__dirname, '../../playbooks'), 'oncall.yaml');

/** Reads and validates a rotation file. @throws PlaybookError naming file:line:column and field of every problem */
export function loadRotationFile(file: string = DEFAULT_ONCALL_FILE): RotationFile {
  return RotationFile.fromSource(readYamlSource(file));
}

/** Validates rotation-file text (tests, inline configuration). @throws PlaybookError */
export function parseRotationFile(file: string, text: string): RotationFile {
  return RotationFile.fromSource(parseYamlSource(file, text));
}
