/** Playbook language: schema, loader with positions, expressions, compiler to ASL, graph tools. */
export { buildAll, compileFile, playbookFiles, writeBuild, GENERATED_NOTE, MACHINE_DIR, PLAYBOOK_DIR, REPO_ROOT } from './build';
export type { BuildOutput } from './build';
export { aslNameProblem, compiledSteps, compilePlaybook, MAX_STATE_NAME, playbookHash, stateNames } from './compile';
export type { Asl, AslState, CompiledMachine } from './compile';
export { ExpressionError, formatProblem, PlaybookError, UnknownVariableError } from './errors';
export type { PlaybookProblem } from './errors';
export { countTransitions, PRICE_PER_TRANSITION_USD, renderMermaid, renderText, walkPath } from './graph';
export { BUILTIN_VARIABLES, decideMode, loadPlaybook, loadPlaybookText } from './loader';
export type { LoadedPlaybook, LoadedStep } from './loader';
export { actionFunctionKey, compiledPlaybooks, CORE_FUNCTIONS, DEFAULT_MANIFEST_FILE, loadCompiledPlaybooks, ManifestError } from '../compiled/manifest';
export type { CompiledPlaybooks, CompiledStep, Manifest, MachineManifest } from '../compiled/manifest';
export { checkPlaybookSafety, deriveBounds, stepFacts } from './safety';
export { PLAYBOOK_NAME, playbookSchema, STEP_NAME, stepSchema } from './schema';
export type { PlaybookSpec, StepSpec } from './schema';
