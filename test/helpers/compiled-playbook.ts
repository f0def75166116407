/** Playbooks written for one test, compiled into a temporary folder the local engine can load. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { compileFile } from '../../lib/playbook/build';
import type { MachineManifest } from '../../lib/compiled/manifest';

export interface CompiledPlaybook {
  /** statemachines/index.json of the folder: LocalEngine's `manifestFile`. */
  readonly manifestFile: string;
  /** The manifest entries written (hash, compiled steps...). */
  readonly manifests: readonly MachineManifest[];
  /** Removes the folder. */
  remove(): void;
}

/** Compiles `yaml` (its `playbook:` must be `name`) as `npm run compile` would, into a fresh folder. */
export function compiledPlaybook(name: string, yaml: string): CompiledPlaybook {
  return compiledPlaybooks([{ name, yaml }]);
}

/** Several playbooks in one folder and one manifest. */
export function compiledPlaybooks(playbooks: readonly { readonly name: string; readonly yaml: string }[]): CompiledPlaybook {
  const dir = mkdtempSync(path.join(tmpdir(), `sre-agent-${playbooks[0]?.name ?? 'playbooks'}-`));
  mkdirSync(path.join(dir, 'statemachines'));
  const manifests: MachineManifest[] = [];
  for (const { name, yaml } of playbooks) {
    writeFileSync(path.join(dir, `${name}.yaml`), yaml);
    const compiled = compileFile(path.join(dir, `${name}.yaml`));
    writeFileSync(path.join(dir, compiled.manifest.file), JSON.stringify(compiled.asl));
    manifests.push(compiled.manifest);
  }
  const manifestFile = path.join(dir, 'statemachines/index.json');
  writeFileSync(manifestFile, JSON.stringify({ machines: manifests }));
  return { manifestFile, manifests, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
