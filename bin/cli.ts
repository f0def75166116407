/** The `sre-agent` command line: validate, compile, graph, plan (and, as they land, the runtime). */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError } from 'commander';
import { defaultPolicy } from '../lib/policy/policy';
import {
  buildAll,
  compileFile,
  formatProblem,
  loadPlaybook,
  PlaybookError,
  playbookFiles,
  PLAYBOOK_DIR,
  PRICE_PER_TRANSITION_USD,
  renderMermaid,
  renderText,
  writeBuild,
} from '../lib/playbook';
import { renderPlan } from '../lib/playbook/plan';
import { checkPlaybookSafety } from '../lib/policy/check';

/** A playbook argument: a path, or a name under playbooks/. */
export function resolvePlaybook(arg: string): string {
  if (existsSync(arg)) return path.resolve(arg);
  const named = path.join(PLAYBOOK_DIR, `${arg.replace(/\.ya?ml$/, '')}.yaml`);
  if (existsSync(named)) return named;
  throw new Error(`no playbook "${arg}": not a file, and not a name in ${path.relative(process.cwd(), PLAYBOOK_DIR) || 'playbooks'}/`);
}

interface Io {
  out(text: string): void;
  err(text: string): void;
}

function program(io: Io): Command {
  const cli = new Command('sre-agent')
    .description('Self-healing SRE agent: YAML playbooks compiled to Step Functions.')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });

  cli
    .command('validate')
    .description('load, safety-check and compile playbooks without writing anything (default: all in playbooks/)')
    .argument('[files...]', 'playbook files or names')
    .action((files: string[]) => {
      const list = files.length ? files.map(resolvePlaybook) : playbookFiles();
      const problems = [];
      for (const file of list) {
        try {
          compileFile(file);
          io.out(`ok  ${path.relative(process.cwd(), file)}\n`);
        } catch (err) {
          if (!(err instanceof PlaybookError)) throw err;
          problems.push(...err.problems);
        }
      }
      if (problems.length) throw new PlaybookError(problems);
    });

  cli
    .command('compile')
    .description('compile every playbook to statemachines/*.asl.json (+ index.json, playbooks/schema.json)')
    .option('--check', 'write nothing; exit 1 if the committed files differ from a fresh compile')
    .action((opts: { check?: boolean }) => {
      const out = buildAll();
      if (opts.check) {
        const stale = [...out.files].filter(([file, content]) => !existsSync(file) || readFileSync(file, 'utf8') !== content).map(([f]) => path.relative(process.cwd(), f));
        if (stale.length) throw new Error(`generated files are stale (run npm run compile): ${stale.join(', ')}`);
        io.out(`up to date: ${out.files.size} files\n`);
        return;
      }
      writeBuild(out);
      for (const m of out.machines) io.out(`compiled ${m.manifest.source} → ${m.manifest.file} (${Object.keys(m.asl.States).length} states)\n`);
    });

  cli
    .command('graph')
    .description('print the compiled state graph as a text tree (default) or Mermaid, with transition counts and cost')
    .argument('<playbook>', 'playbook file or name')
    .option('--mermaid', 'print a Mermaid flowchart instead of text')
    .action((arg: string, opts: { mermaid?: boolean }) => {
      const m = compileFile(resolvePlaybook(arg));
      io.out(`${opts.mermaid ? renderMermaid(m.asl) : renderText(m.asl)}\n\n`);
      const { fullPath, quietPath } = m.manifest.transitions;
      const cost = (n: number) => `$${(n * PRICE_PER_TRANSITION_USD).toFixed(6)}`;
      io.out(`${opts.mermaid ? '%% ' : ''}states: ${Object.keys(m.asl.States).length}; transitions: full remediation path ${fullPath} (${cost(fullPath)} per incident), quiet path ${quietPath} (${cost(quietPath)}); machine timeout ${m.asl.TimeoutSeconds}s\n`);
    });

  cli
    .command('plan')
    .description('dry-run table: per step, effect, approval, condition, breakers, caps, target')
    .argument('<playbook>', 'playbook file or name')
    .action((arg: string) => {
      const pb = loadPlaybook(resolvePlaybook(arg));
      const policy = defaultPolicy();
      const problems = checkPlaybookSafety(pb, policy);
      io.out(`${renderPlan(pb, policy)}\n`);
      if (problems.length) throw new PlaybookError(problems);
    });

  cli
    .command('start')
    .description('run the agent locally (until the local runtime lands: validate + compile and show what would run)')
    .action(() => {
      const out = buildAll();
      io.out('sre-agent: local runtime not built yet (see README status); showing what would run.\n\n');
      for (const m of out.machines) {
        const t = m.manifest.trigger;
        const when = t.type === 'schedule' ? `schedule ${t.expression}` : `alarms named ${t.alarmNamePrefix}<service>/… (${t.metrics.map((x) => `${x.metric} ${x.threshold}`).join('; ') || 'no metric alarms'})`;
        io.out(`• ${m.manifest.playbook}: ${Object.keys(m.asl.States).length} states, ${m.manifest.transitions.fullPath} transitions on the full path; on ${when}\n`);
      }
    });
  return cli;
}

/** Runs the CLI; resolves to the exit code. Errors are printed, never thrown. */
export async function run(argv: readonly string[], io: Io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }): Promise<number> {
  try {
    await program(io).parseAsync(argv as string[]);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof PlaybookError) {
      io.err(`${err.problems.map(formatProblem).join('\n')}\n${err.problems.length} problem(s)\n`);
      return 1;
    }
    io.err(`sre-agent: ${(err as Error).message}\n`);
    return 1;
  }
}

export async function main(argv: readonly string[]): Promise<void> {
  process.exitCode = await run(argv);
}
