/**
 * SQL as the policy reads it: parsed by a real parser (node-sql-parser, MariaDB dialect), never
 * by its first word. A statement the agent may send reads and nothing else: a plain SELECT,
 * EXPLAIN or one of a few SHOW forms, without locking reads, INTO OUTFILE/DUMPFILE/@variable,
 * variable assignment, side-effect functions or MariaDB's executable comments. KILL exists only
 * as rds_query's `KILL {column}` follow-up (see the kill-idle-only rule).
 */
// The MariaDB build alone: a tenth of the all-dialects bundle, and twenty times faster to load.
import { Parser } from 'node-sql-parser/build/mariadb';
import { KILL_FOLLOW_UP, type IdleFilter, type SqlAnalysis, type SqlFacts, type SqlTable } from './sql-facts';

export { KILL_FOLLOW_UP };
export type { IdleFilter, SqlAnalysis, SqlFacts, SqlTable };

const DIALECT = { database: 'MariaDB' } as const;
let parserInstance: Parser | undefined;
const parser = (): Parser => (parserInstance ??= new Parser());

/**
 * Functions with effects beyond reading: they sleep, lock, wait on replication, read files or
 * run programs. A SELECT calling one is refused.
 */
export const SIDE_EFFECT_FUNCTIONS: ReadonlySet<string> = new Set([
  'SLEEP', 'BENCHMARK', 'GET_LOCK', 'RELEASE_LOCK', 'RELEASE_ALL_LOCKS', 'IS_FREE_LOCK', 'IS_USED_LOCK',
  'LOAD_FILE', 'MASTER_POS_WAIT', 'SOURCE_POS_WAIT', 'MASTER_GTID_WAIT', 'WAIT_FOR_EXECUTED_GTID_SET',
  'WAIT_UNTIL_SQL_THREAD_AFTER_GTIDS', 'SYS_EXEC', 'SYS_EVAL', 'NEXTVAL', 'SETVAL', 'LASTVAL',
]);

/** Statement words that write or change state, for the message of a statement that does not parse. */
const WRITE_VERBS = new Set(['UPDATE', 'DELETE', 'INSERT', 'REPLACE', 'DROP', 'ALTER', 'CREATE', 'TRUNCATE', 'RENAME', 'GRANT', 'REVOKE', 'SET', 'LOCK', 'UNLOCK', 'CALL', 'DO', 'HANDLER', 'LOAD', 'KILL', 'FLUSH', 'RESET', 'PURGE', 'INSTALL', 'UNINSTALL', 'OPTIMIZE', 'REPAIR', 'ANALYZE', 'START', 'BEGIN', 'COMMIT', 'ROLLBACK', 'XA', 'SHUTDOWN', 'CHANGE', 'PREPARE', 'EXECUTE']);

/**
 * SHOW statements the parser does not know but MariaDB answers read-only. Anything else that
 * starts with SHOW must parse.
 */
const SHOW_FORMS: readonly RegExp[] = [
  /^SHOW\s+(FULL\s+)?PROCESSLIST$/i,
  /^SHOW\s+(GLOBAL\s+|SESSION\s+)?(VARIABLES|STATUS)(\s+LIKE\s+'[A-Za-z0-9_%]*')?$/i,
  /^SHOW\s+ENGINE\s+INNODB\s+STATUS$/i,
  /^SHOW\s+(FULL\s+)?TABLES(\s+FROM\s+[A-Za-z0-9_]+)?$/i,
];

type Node = Record<string, unknown>;

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null;
}

/** Visits every object node of an AST, depth first (iteratively: a deep expression cannot overflow the stack). */
function walk(root: unknown, visit: (node: Node) => void): void {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) stack.push(...node);
    else if (isNode(node)) {
      visit(node);
      for (const v of Object.values(node)) if (isNode(v)) stack.push(v);
    }
  }
}

/** The upper-case name of a function call node (node-sql-parser 5 writes it as `{name: [{value}]}`). */
function functionName(node: Node): string | undefined {
  const name = node.name as unknown;
  if (typeof name === 'string') return name.toUpperCase();
  if (isNode(name) && Array.isArray(name.name)) {
    return (name.name as Node[]).map((p) => String(p.value ?? '')).join('.').toUpperCase();
  }
  return undefined;
}

/** SHOW forms that name one table. */
const SHOW_TABLE = /^SHOW (?:CREATE (?:TABLE|VIEW)|(?:FULL |EXTENDED )*(?:COLUMNS|FIELDS|INDEX|INDEXES|KEYS) (?:FROM|IN)) ((?:`[^`]+`|[\w$]+)(?:\.(?:`[^`]+`|[\w$]+))?)/i;

/** MariaDB's account tables (mysql.user is a view over global_priv since 10.4). */
const CREDENTIAL_TABLES = new Set(['user', 'global_priv']);

/** `db.table`, `` `db`.`table` `` or `table`, lower case. */
function tableRef(name: string): SqlTable {
  const parts = (name.match(/`[^`]+`|[\w$]+/g) ?? []).map((p) => p.replace(/`/g, '').toLowerCase());
  return parts.length === 2 ? { db: parts[0] as string, table: parts[1] as string } : { table: parts[0] ?? '' };
}

function tablesOf(sql: string): SqlTable[] {
  return parser().tableList(sql, DIALECT).map((entry) => {
    const [, db, table] = entry.split('::');
    return db && db !== 'null' ? { db: db.toLowerCase(), table: String(table).toLowerCase() } : { table: String(table).toLowerCase() };
  });
}

/**
 * Reads one SQL text. Refusals are phrased for a playbook author: what is wrong and why.
 * @example analyseSql("SELECT id FROM information_schema.processlist WHERE command = 'Sleep'").problems // []
 */
export function analyseSql(text: string): SqlFacts {
  const sql = text.trim().replace(/;\s*$/, '');
  if (sql.length === 0) return { kinds: [], tables: [], problems: ['the statement is empty'] };
  // MariaDB runs the inside of /*! ... */ and /*M! ... */: a parser reading them as comments would be fooled.
  if (/\/\*[!M]/i.test(sql)) return { kinds: [], tables: [], problems: ['executable comments (/*! ... */) are not allowed: MariaDB runs what they hold'] };
  if (/^SHOW\b/i.test(sql) && SHOW_FORMS.some((re) => re.test(sql.replace(/\s+/g, ' ')))) return { kinds: ['show'], tables: [], problems: [] };
  let ast: unknown;
  try {
    ast = parser().astify(sql, DIALECT);
  } catch (err) {
    // Refused because it does not parse; the first word only makes the message clearer.
    const verb = /^\(*\s*([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase();
    if (verb && WRITE_VERBS.has(verb)) return { kinds: [verb.toLowerCase()], tables: [], problems: [`${verb} is not a read (allowed: SELECT, SHOW, EXPLAIN)`] };
    const first = String((err as Error).message).split('\n')[0]?.slice(0, 160);
    return { kinds: [], tables: [], problems: [`cannot be parsed as MariaDB SQL, so it is not sent (${first})`] };
  }
  const statements = (Array.isArray(ast) ? ast : [ast]) as Node[];
  const problems: string[] = [];
  if (statements.length !== 1) problems.push(`${statements.length} statements: one statement per parameter`);
  const kinds = statements.map((s) => String(s.type ?? 'unknown').toLowerCase());
  for (const kind of kinds) if (!['select', 'show', 'explain'].includes(kind)) problems.push(`${kind.toUpperCase()} is not a read (allowed: SELECT, SHOW, EXPLAIN)`);
  const found = new Set<string>();
  walk(statements, (node) => {
    if (typeof node.locking_read === 'string' && node.locking_read) found.add(`locking read (${node.locking_read}) takes row locks`);
    const into = node.into;
    if (isNode(into) && (into.keyword || into.expr)) found.add(`SELECT ... INTO ${String(into.keyword ?? 'a variable').toUpperCase()} writes outside the result set`);
    if (node.type === 'assign') found.add('variable assignment (:=) changes session state');
    if (node.type === 'function') {
      const name = functionName(node);
      if (name && SIDE_EFFECT_FUNCTIONS.has(name.split('.').at(-1) ?? name)) found.add(`${name}() has side effects (sleeps, locks, waits or reads files)`);
    }
  });
  problems.push(...found);
  let tables: SqlTable[] = [];
  try {
    tables = tablesOf(sql);
  } catch {
    /* parsed above; tableList does not fail where astify succeeded */
  }
  // node-sql-parser lists no table for SHOW CREATE TABLE / SHOW COLUMNS|INDEX FROM: the blacklist still sees it.
  const shown = SHOW_TABLE.exec(sql.replace(/\s+/g, ' '));
  if (shown && tables.length === 0) tables = [tableRef(shown[1] as string)];
  for (const t of tables) if (t.db === 'mysql' && CREDENTIAL_TABLES.has(t.table)) problems.push(`mysql.${t.table} holds database accounts and their password hashes; the agent does not read it`);
  return { kinds, tables, problems, ast: statements[0] };
}

/** Column name of a column_ref node, lower case. */
function columnOf(node: unknown): string | undefined {
  if (!isNode(node) || node.type !== 'column_ref') return undefined;
  const col = node.column as unknown;
  if (typeof col === 'string') return col.toLowerCase();
  if (isNode(col) && isNode(col.expr)) return String(col.expr.value ?? '').toLowerCase();
  return undefined;
}

function literalOf(node: unknown): string | number | undefined {
  if (!isNode(node)) return undefined;
  if (node.type === 'number') return Number(node.value);
  if (typeof node.type === 'string' && node.type.endsWith('string')) return String(node.value);
  return undefined;
}

/** The terms of a top-level AND chain (an OR anywhere above a term means it does not always hold). */
function conjuncts(where: unknown): Node[] {
  if (!isNode(where)) return [];
  if (where.type === 'binary_expr' && String(where.operator).toUpperCase() === 'AND') return [...conjuncts(where.left), ...conjuncts(where.right)];
  return [where];
}

/**
 * The idle filter of a kill-list query, or why it has none: a single SELECT from
 * information_schema.processlist whose WHERE always requires `command = 'Sleep'` and
 * `time > N` (or `>=`). Anything looser could select every thread.
 */
export function idleFilterOf(query: string, column?: string): IdleFilter | { problem: string } {
  const facts = analyseSql(query);
  if (facts.problems.length > 0) return { problem: facts.problems.join('; ') };
  const stmt = facts.ast as Node | undefined;
  if (!stmt || stmt.type !== 'select') return { problem: 'the kill list must come from a SELECT' };
  // UNION / INTERSECT / EXCEPT and joins add rows the WHERE below does not hold for.
  if (stmt._next || (Array.isArray(stmt.from) && stmt.from.length !== 1)) return { problem: 'the kill list must be one SELECT from information_schema.processlist alone, with no UNION, INTERSECT, EXCEPT or join: the idle filter holds only for the rows of its own SELECT' };
  const tables = facts.tables.map((t) => `${t.db ?? ''}.${t.table}`);
  if (tables.length !== 1 || tables[0] !== 'information_schema.processlist') {
    return { problem: `the kill list must be selected from information_schema.processlist alone (it names ${tables.join(', ') || 'no table'})` };
  }
  const terms = conjuncts(stmt.where);
  const sleeping = terms.some((t) => String(t.operator) === '=' && columnOf(t.left) === 'command' && String(literalOf(t.right) ?? '').toLowerCase() === 'sleep');
  const idle = terms
    .filter((t) => ['>', '>='].includes(String(t.operator)) && columnOf(t.left) === 'time' && typeof literalOf(t.right) === 'number')
    .map((t) => (literalOf(t.right) as number) - (String(t.operator) === '>=' ? 1 : 0));
  if (column !== undefined) {
    // The kill list names threads by this column: it must be processlist's own, not an expression,
    // a subquery or another column renamed to it (those can name threads the WHERE did not select).
    const wanted = column.toLowerCase();
    const renamed = ((stmt.columns as Node[] | undefined) ?? []).find((c) => {
      const plain = columnOf(c.expr);
      const name = typeof c.as === 'string' && c.as ? c.as.toLowerCase() : plain;
      return name === wanted && plain !== wanted;
    });
    if (renamed) return { problem: `its ${column} column must be processlist's own ${column}, not an expression, a subquery or another column named ${column}: it could name threads the idle filter did not select` };
  }
  if (!sleeping) return { problem: "its WHERE must require command = 'Sleep' (idle connections only), joined by AND" };
  if (idle.length === 0) return { problem: 'its WHERE must require time > N seconds (connections idle that long), joined by AND' };
  return { idleOverSeconds: Math.max(...idle) };
}

/** The parser, as an action with SQL parameters declares it (`roles.sqlAnalysis`). */
export const SQL_ANALYSIS: SqlAnalysis = { analyseSql, idleFilterOf };
