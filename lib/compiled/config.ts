/**
 * statemachines/config.json, written by `npm run compile`: the configuration files of playbooks/
 * (policy, service map, metric catalogue, on-call rotation, status-page components) as plain
 * JSON values by file name. A Lambda reads this rather than the YAML, so its bundle carries no
 * YAML parser; the values are validated by the same schemas as the YAML
 * (lib/runtime/bundled-config.ts).
 */
import { readFileSync } from 'node:fs';

/** The configuration files in playbooks/ that are not playbooks, in the order compile writes them. */
export const CONFIG_YAML_FILES = ['policy.yaml', 'services.yaml', 'metrics.yaml', 'oncall.yaml', 'status-page.yaml'] as const;
export type ConfigFileName = (typeof CONFIG_YAML_FILES)[number];

/** What config.json holds: each configuration file's value (a missing file is left out). */
export interface CompiledConfig {
  readonly generated: string;
  readonly files: Readonly<Partial<Record<ConfigFileName, unknown>>>;
}

/** An unreadable or malformed config.json: the function cannot know its policy. */
export class CompiledConfigError extends Error {
  public readonly file: string;
  public constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super(`compiled configuration ${file}: ${reason}`, options);
    this.name = 'CompiledConfigError';
    this.file = file;
  }
}

/** Reads config.json. @throws CompiledConfigError naming the file, and the field at fault */
export function readCompiledConfig(file: string): CompiledConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CompiledConfigError(file, `${(err as Error).message} (run npm run compile)`, { cause: err });
  }
  const files = (parsed as { files?: unknown } | null)?.files;
  if (typeof files !== 'object' || files === null || Array.isArray(files)) throw new CompiledConfigError(file, 'no "files" object (run npm run compile)');
  const unknown = Object.keys(files).filter((name) => !(CONFIG_YAML_FILES as readonly string[]).includes(name));
  if (unknown.length > 0) throw new CompiledConfigError(file, `files.${unknown[0]}: not a configuration file (expected ${CONFIG_YAML_FILES.join(', ')})`);
  return parsed as CompiledConfig;
}
