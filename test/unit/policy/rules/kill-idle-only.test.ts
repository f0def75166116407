/** kill-idle-only: a KILL follow-up only on a query limited to idle threads, over the policy's threshold. */
import { facts, findingsOf } from '../../../helpers/step-facts';

const RULE = 'kill-idle-only';
const problems = (query: string, follow_up = 'KILL {id}') => findingsOf(RULE, facts('rds_query', { query, follow_up })).map((f) => f.message);

describe(RULE, () => {
  it.each([
    "SELECT id, time, info FROM information_schema.processlist WHERE command = 'Sleep' AND time > 300",
    "SELECT id FROM information_schema.PROCESSLIST WHERE time >= 120 AND command = 'sleep' AND user = 'order_svc'",
    "SELECT * FROM information_schema.processlist WHERE command = 'Sleep' AND time > 60",
  ])('lets %j pass', (query) => {
    expect(problems(query)).toEqual([]);
  });

  it.each([
    ['SELECT id FROM information_schema.processlist', "command = 'Sleep'"],
    ["SELECT id FROM information_schema.processlist WHERE command = 'Sleep'", 'time > N'],
    ["SELECT id FROM information_schema.processlist WHERE command = 'Sleep' OR time > 300", "command = 'Sleep'"],
    ["SELECT id FROM information_schema.processlist WHERE command = 'Sleep' AND (time > 300 OR 1 = 1)", 'time > N'],
    ["SELECT id FROM information_schema.processlist WHERE command <> 'Sleep' AND time > 300", "command = 'Sleep'"],
    ["SELECT id FROM information_schema.processlist WHERE command = 'Sleep' AND time > 5", 'under the policy'],
    ["SELECT id FROM mysql.slow_log WHERE command = 'Sleep' AND time > 300", 'from information_schema.processlist alone'],
    ["SELECT p.id FROM information_schema.processlist p JOIN information_schema.innodb_trx t ON 1 = 1 WHERE command = 'Sleep' AND time > 300", 'alone'],
  ])('refuses %j (%s)', (query, why) => {
    expect(problems(query).join('; ')).toContain(why);
  });

  it('refuses a follow-up that kills a column the query does not select', () => {
    expect(problems("SELECT time FROM information_schema.processlist WHERE command = 'Sleep' AND time > 300")).toEqual([expect.stringContaining('a column the query does not select')]);
  });

  it('does not apply without a follow-up', () => {
    expect(findingsOf(RULE, facts('rds_query', { query: 'SELECT 1' }))).toEqual([]);
  });
});
