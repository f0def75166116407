/** The table `drill all` ends with. */
import type { DrillResult } from './runner';

const secs = (v: number | null) => (v === null ? '-' : `${v.toFixed(v < 10 ? 1 : 0)}`);

export function summaryTable(results: readonly DrillResult[]): string {
  const rows = [
    ['drill', 'result', 'incidents', 'ran', 'skipped', 'approvals', 'MTTD s', 'MTTI s', 'MTTR s', '1st auto fix s', 'sim', 'wall s'],
    ...results.map((r) => [
      r.scenario,
      r.passed ? 'PASS' : 'FAIL',
      String(r.incidents.length),
      String(r.steps.ran.length),
      String(r.steps.skipped.length),
      String(r.steps.waitedForApproval.length),
      secs(r.mttdSeconds),
      secs(r.mttiSeconds),
      secs(r.mttrSeconds),
      secs(r.firstAutoRemediationSeconds),
      `${Math.floor(r.simulatedSeconds / 60)}m${String(r.simulatedSeconds % 60).padStart(2, '0')}s`,
      r.wallSeconds.toFixed(1),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const failed = results.filter((r) => !r.passed);
  return [line(rows[0]!), ...rows.slice(1).map(line), `${results.length - failed.length} passed, ${failed.length} failed`, ...failed.flatMap((r) => r.deviations.map((d) => `  ${r.scenario}: ${d}`))].join('\n');
}
