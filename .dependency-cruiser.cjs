/**
 * The dependency rules of DESIGN.md, checked by `npm test` (test/unit/architecture.test.ts runs
 * depcruise over bin/, lib/ and lambdas/). Paths are repository-relative.
 */
const RUNTIME = '^lib/(analysis|knowledge|playbook|actions|incident|breaker|approval|runtime|metrics|notify|report|kube|policy|yaml)/';

module.exports = {
  forbidden: [
    {
      name: 'policy-is-the-lowest-layer',
      comment: 'lib/policy imports no other lib/ folder but lib/yaml (the YAML-with-positions reader below it).',
      severity: 'error',
      from: { path: '^lib/policy/' },
      to: { path: '^lib/', pathNot: '^lib/(policy|yaml)/' },
    },
    {
      name: 'yaml-below-policy',
      comment: 'lib/yaml sits below lib/policy and lib/playbook: it imports no other lib/ folder.',
      severity: 'error',
      from: { path: '^lib/yaml/' },
      to: { path: '^lib/', pathNot: '^lib/yaml/' },
    },
    {
      name: 'no-cdk-in-lambda-code',
      comment: 'Code that runs in a Lambda never imports lib/infra or lambdas/: CDK must not be bundled.',
      severity: 'error',
      from: { path: RUNTIME },
      to: { path: '^(lib/infra|lambdas)/' },
    },
    {
      name: 'no-cdk-package-in-lambda-code',
      comment: 'Nor the CDK packages themselves.',
      severity: 'error',
      from: { path: RUNTIME },
      to: { path: 'node_modules/(aws-cdk-lib|constructs|cdk-nag)/' },
    },
    {
      name: 'zod-through-lib-yaml',
      comment: 'Nothing imports the zod package but lib/yaml/zod.ts: every schema is written in zod/mini, imported as a namespace from lib/yaml/zod (English messages configured; classic zod would put ~100 kB in every Lambda bundle).',
      severity: 'error',
      from: { path: '^(bin|lib|lambdas)/', pathNot: '^lib/yaml/zod\\.(ts|js)$' },
      to: { path: 'node_modules/zod/' },
    },
    {
      name: 'actions-do-not-import-runtime-wiring',
      comment: 'lib/actions does not import lib/runtime wiring; the thin action entries (lambdas/) do.',
      severity: 'error',
      from: { path: '^lib/actions/' },
      to: { path: '^lib/runtime/' },
    },
    {
      name: 'lambdas-do-not-know-where-they-run',
      comment: 'lambdas/ never imports lib/local.',
      severity: 'error',
      from: { path: '^lambdas/' },
      to: { path: '^lib/local/' },
    },
    {
      name: 'lambdas-read-compiled-config',
      comment: 'A Lambda reads its configuration compiled to JSON (statemachines/config.json): no path from lambdas/ reaches the YAML parsers (lib/yaml/source.ts, 160 kB in every bundle).',
      severity: 'error',
      from: { path: '^lambdas/' },
      to: { path: '^lib/yaml/source\\.(ts|js)$', reachable: true },
    },
    {
      name: 'sandbox-only-for-drills-and-tests',
      comment: 'Nothing outside lib/local, lib/sandbox, bench/ and test/ imports lib/sandbox.',
      severity: 'error',
      from: { pathNot: '^(lib/local|lib/sandbox|bench|test)/' },
      to: { path: '^lib/sandbox/' },
    },
    {
      name: 'no-cycles-between-folders',
      comment: 'No import cycles between folders (lib/x → lib/y → lib/x).',
      severity: 'error',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(node_modules|\\.build|cdk\\.out|test|bench)' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
