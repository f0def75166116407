/**
 * kill-idle-only: a KILL follow-up may only reach idle connections. Its query must select from
 * information_schema.processlist alone, require `command = 'Sleep'` and `time > N` (N at least
 * caps.min_kill_idle_seconds) in an AND chain, and select the column the follow-up names: a
 * query that could select every thread is refused. At run time rds_query checks each thread
 * again before it kills it.
 */
import { KILL_FOLLOW_UP } from '../sql-facts';
import { isTemplated } from '../step';
import { defineRule } from './rule';

export const rule = defineRule({
  id: 'kill-idle-only',
  description: "KILL follow-ups only reach threads the query selects as idle (command = 'Sleep' AND time > N).",
  phases: ['compile', 'runtime'],
  check(step, policy, _phase, finding) {
    const kill = step.action.roles?.killFollowUp;
    if (!kill) return [];
    const followUp = step.params[kill.param];
    const query = step.params[kill.query];
    if (typeof followUp !== 'string' || !KILL_FOLLOW_UP.test(followUp) || typeof query !== 'string' || isTemplated(query)) return [];
    const min = policy.caps.min_kill_idle_seconds;
    const analysis = step.action.roles?.sqlAnalysis;
    const column = (KILL_FOLLOW_UP.exec(followUp)?.[2] ?? '').toLowerCase();
    const filter = analysis ? analysis.idleFilterOf(query, column) : { problem: `action ${step.action.name} declares no SQL parser (roles.sqlAnalysis), so the query cannot be read` };
    const at = { effect: 'refuse' as const, field: ['params', kill.query], category: 'database_writes' as const };
    if ('problem' in filter) {
      return [finding({ ...at, message: `the kill list cannot be limited to idle connections: ${filter.problem}`, fix: "select from information_schema.processlist WHERE command = 'Sleep' AND time > 300" })];
    }
    if (filter.idleOverSeconds < min) {
      return [finding({ ...at, message: `kills connections idle for more than ${filter.idleOverSeconds} s, under the policy's ${min} s`, fix: `require time > ${min} or more (caps.min_kill_idle_seconds)` })];
    }
    if (!new RegExp(`(^|[\\s,(.])(${column}|\\*)([\\s,)]|$)`, 'i').test(query.split(/\bFROM\b/i)[0] ?? '')) {
      return [finding({ ...at, field: ['params', kill.param], message: `the follow-up kills {${column}}, a column the query does not select`, fix: `select ${column} in the query` })];
    }
    return [];
  },
});
