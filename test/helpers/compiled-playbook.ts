/** A playbook written for one test, compiled into a temporary folder the local engine can load. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { compileFile } from '../../lib/playbook/build';

export interface CompiledPlaybook {
  /** statemachines/index.json of the folder: LocalEngine's `manifestFile`. */
  readonly manifestFile: string;
  /** Removes the folder. */
  remove(): void;
}

/** Compiles `yaml` (its `playbook:` must be `name`) as `npm run compile` would, into a fresh folder. */
export function compiledPlaybook(name: string, yaml: string): CompiledPlaybook {
  const dir = mkdtempSync(path.join(tmpdir(), `sre-agent-${name}-`));
  writeFileSync(path.join(dir, `${name}.yaml`), yaml);
  const compiled = compileFile(path.join(dir, `${name}.yaml`));
  mkdirSync(path.join(dir, 'statemachines'));
  writeFileSync(path.join(dir, compiled.manifest.file), JSON.stringify(compiled.asl));
  const manifestFile = path.join(dir, 'statemachines/index.json');
  writeFileSync(manifestFile, JSON.stringify({ machines: [compiled.manifest] }));
  return { manifestFile, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
