/**
 * The metric catalogue read from playbooks/metrics.yaml (compiler, CLI, local engine, tests). A
 * Lambda reads the copy compiled to JSON (lib/runtime/bundled-config.ts): no YAML parser there.
 */
import * as path from 'node:path';
import { readYamlSource } from '../yaml/source';
import { catalogueFromSource, type MetricCatalogue } from './catalogue';

/** `$SRE_AGENT_CONFIG_DIR/metrics.yaml` when set, else beside the playbooks. */
export const DEFAULT_CATALOGUE_FILE = path.join(process.env.SRE_AGENT_CONFIG_DIR ?? path.resolve(__dirname, '../../playbooks'), 'metrics.yaml');

/** Reads and validates a metric catalogue; every problem names file:line:column and field. */
export function loadCatalogue(file: string = DEFAULT_CATALOGUE_FILE): MetricCatalogue {
  return catalogueFromSource(readYamlSource(file));
}

let cached: MetricCatalogue | undefined;
/** The default catalogue, loaded once per process. */
export function defaultCatalogue(): MetricCatalogue {
  cached ??= loadCatalogue();
  return cached;
}
