/**
 * Reading compiled machines: walk a path through the ASL (to count state transitions, i.e. cost),
 * and render it as a text tree or a Mermaid flowchart for `sre-agent graph`.
 */
import type { Asl, AslState } from './compile';
import { StateGraphError } from './errors';

/** us-east-1 Standard workflow price per state transition (AWS pricing page). */
export const PRICE_PER_TRANSITION_USD = 0.000025;

/**
 * `full`: every condition true, every breaker closed, every approval granted at the first ask,
 * every action succeeds, the incident recovers. `quiet`: every condition false.
 */
export type PathPolicy = 'full' | 'quiet';

function choose(state: AslState, policy: PathPolicy): string {
  const choices = (state.Choices as { Variable: string; Next: string }[]) ?? [];
  const first = choices[0];
  if (!first) return state.Default as string;
  if (policy === 'quiet' && first.Variable.startsWith('$.run.checks.')) return state.Default as string;
  return first.Next;
}

/** States entered, in order, along the path `policy` describes. */
export function walkPath(asl: Asl, policy: PathPolicy): string[] {
  const path: string[] = [];
  let name: string | undefined = asl.StartAt;
  while (name !== undefined) {
    if (path.length > 10_000) throw new StateGraphError(`walkPath: no end after 10000 states (loop at "${name}")`, name);
    const state: AslState | undefined = asl.States[name];
    if (!state) throw new StateGraphError(`walkPath: state "${name}" does not exist`, name);
    path.push(name);
    if (state.Type === 'Succeed' || state.Type === 'Fail' || state.End === true) break;
    name = state.Type === 'Choice' ? choose(state, policy) : (state.Next as string);
  }
  return path;
}

export function countTransitions(asl: Asl, policy: PathPolicy): number {
  // A Parallel state's branches run their own states: each is a transition too (each check's Task on its happy path).
  return walkPath(asl, policy).reduce((n, name) => n + 1 + ((asl.States[name]?.Branches as Asl[] | undefined) ?? []).reduce((b, branch) => b + walkPath(branch, policy).length, 0), 0);
}

function edges(state: AslState): { to: string; label?: string }[] {
  const out: { to: string; label?: string }[] = [];
  if (typeof state.Next === 'string') out.push({ to: state.Next });
  for (const c of (state.Choices as { Next: string; StringEquals?: string }[]) ?? []) out.push({ to: c.Next, label: c.StringEquals });
  if (typeof state.Default === 'string') out.push({ to: state.Default, label: 'otherwise' });
  for (const c of (state.Catch as { Next: string; ErrorEquals: string[] }[]) ?? []) out.push({ to: c.Next, label: c.ErrorEquals.join('|') });
  return out;
}

/** One line per state, in definition order, with where it goes. */
export function renderText(asl: Asl): string {
  const lines: string[] = [];
  for (const [name, state] of Object.entries(asl.States)) {
    const kind = state.Type === 'Task' && String(state.Resource).endsWith('waitForTaskToken') ? 'Task(waitForTaskToken)' : state.Type;
    const extra = state.Type === 'Wait' ? ` ${state.Seconds}s` : state.TimeoutSeconds ? ` timeout ${state.TimeoutSeconds}s` : '';
    lines.push(`${name === asl.StartAt ? '▶' : '•'} ${name}  [${kind}${extra}]`);
    for (const e of edges(state)) lines.push(`    ${e.label ? `${e.label} ` : ''}→ ${e.to}`);
  }
  return lines.join('\n');
}

function mermaidId(name: string, ids: Map<string, string>): string {
  if (!ids.has(name)) ids.set(name, `s${ids.size}`);
  return ids.get(name)!;
}

/** The node id each top-level state has in renderMermaid's chart (for highlighting a position). */
export function mermaidIds(asl: Asl): Record<string, string> {
  const ids = new Map<string, string>();
  for (const name of Object.keys(asl.States)) mermaidId(name, ids);
  return Object.fromEntries(ids);
}

/** Mermaid flowchart (`flowchart TD`), paste into any Mermaid viewer. */
export function renderMermaid(asl: Asl): string {
  const ids = new Map<string, string>();
  const lines = ['flowchart TD'];
  for (const [name, state] of Object.entries(asl.States)) {
    const id = mermaidId(name, ids);
    const label = name.replace(/"/g, "'");
    lines.push(state.Type === 'Choice' ? `  ${id}{"${label}"}` : state.Type === 'Wait' ? `  ${id}(["${label}"])` : `  ${id}["${label}"]`);
  }
  for (const [name, state] of Object.entries(asl.States)) {
    for (const e of edges(state)) {
      lines.push(`  ${mermaidId(name, ids)} -->${e.label ? `|${e.label.replace(/\|/g, ' or ')}|` : ''} ${mermaidId(e.to, ids)}`);
    }
  }
  return lines.join('\n');
}
