/**
 * sql-read-only: SQL the agent sends only reads. Parsed by a real parser, not judged by its first
 * word: one plain SELECT / EXPLAIN / SHOW, no locking reads, no INTO, no assignments, no
 * side-effect functions, no executable comments. A KILL follow-up has one form only.
 */
import { KILL_FOLLOW_UP } from '../sql-facts';
import { isTemplated } from '../step';
import { defineRule, type Finding } from './rule';

export const rule = defineRule({
  id: 'sql-read-only',
  description: 'SQL parameters hold one read-only statement; a KILL follow-up is exactly KILL [CONNECTION|QUERY] {column}.',
  phases: ['compile', 'runtime'],
  check(step, _policy, _phase, finding) {
    const roles = step.action.roles ?? {};
    const out: Finding[] = [];
    for (const param of roles.sql ?? []) {
      const sql = step.params[param];
      if (typeof sql !== 'string') continue;
      if (isTemplated(sql)) {
        out.push(finding({ effect: 'refuse', field: ['params', param], category: 'database_writes', message: 'SQL built from a {{template}} cannot be checked before it runs', fix: 'write the statement out in full' }));
        continue;
      }
      if (!roles.sqlAnalysis) {
        out.push(finding({ effect: 'refuse', field: ['params', param], category: 'database_writes', message: `${param}: cannot be checked: action ${step.action.name} declares SQL parameters but no SQL parser (roles.sqlAnalysis)`, fix: 'declare roles.sqlAnalysis: SQL_ANALYSIS in the action (lib/policy/sql.ts)' }));
        continue;
      }
      for (const problem of roles.sqlAnalysis.analyseSql(sql).problems) {
        out.push(finding({ effect: 'refuse', field: ['params', param], category: 'database_writes', message: `${param}: ${problem}`, fix: 'the agent only reads: one plain SELECT, SHOW or EXPLAIN (kills go through follow_up)' }));
      }
    }
    const kill = roles.killFollowUp;
    const followUp = kill ? step.params[kill.param] : undefined;
    if (kill && followUp !== undefined && (typeof followUp !== 'string' || !KILL_FOLLOW_UP.test(followUp))) {
      out.push(finding({ effect: 'refuse', field: ['params', kill.param], category: 'database_writes', message: `${kill.param} must be "KILL {column}" (or KILL CONNECTION / KILL QUERY), got "${String(followUp).trim()}"`, fix: 'write follow_up: "KILL {id}"' }));
    }
    return out;
  },
});
