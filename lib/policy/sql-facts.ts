/**
 * What the policy learns from SQL, without the parser: the facts' types, the one KILL form, and
 * the SqlAnalysis an action that takes SQL parameters declares (its `roles.sqlAnalysis`, the
 * parser of lib/policy/sql.ts). The rules read SQL through it, so only the bundles of actions
 * with SQL parameters carry node-sql-parser; a step with SQL parameters and no analysis is refused.
 */
/** A table a statement names: `db.table`, lower case (MariaDB table names on Linux are case-sensitive, the policy's globs are not). */
export interface SqlTable {
  readonly db?: string;
  readonly table: string;
}

/** What the policy learns from one SQL text. */
export interface SqlFacts {
  /** `select`, `show`, `explain`, or the parser's type of a statement that is not allowed (`delete`, `set`...). */
  readonly kinds: readonly string[];
  readonly tables: readonly SqlTable[];
  /** Why the text is not a read-only statement; empty when it is. */
  readonly problems: readonly string[];
  /** The parsed statement (first), for the kill-idle rule's WHERE analysis. */
  readonly ast?: unknown;
}

/** `KILL {id}`, `KILL CONNECTION {id}`, `KILL QUERY {id}`: the only KILL the agent sends. */
export const KILL_FOLLOW_UP = /^KILL\s+(?:(CONNECTION|QUERY)\s+)?\{(\w+)\}\s*;?\s*$/i;

/** The idle filter a kill-list query must carry: `command = 'Sleep' AND time > N`. */
export interface IdleFilter {
  /** A thread is killed only when idle for more than this many seconds (`time > N`; `time >= N` is N - 1). */
  readonly idleOverSeconds: number;
}

/** The SQL parser as the rules use it (lib/policy/sql.ts: SQL_ANALYSIS). */
export interface SqlAnalysis {
  analyseSql(text: string): SqlFacts;
  /** `column`: the one the KILL follow-up names, which must be processlist's own. */
  idleFilterOf(query: string, column?: string): IdleFilter | { problem: string };
}
