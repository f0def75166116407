/**
 * RdsOps on a MySQL/MariaDB server's global variables: the local target (`--mysql`), where
 * `SET GLOBAL max_connections = N` is what ModifyDBParameterGroup does to an RDS instance.
 */
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { ActionError, InvalidParameterError, TransientTargetError } from '../errors';
import type { RdsOps, RdsParameterState } from '../ports';

/** Numeric server variables SET GLOBAL applies at once (all of rds_parameter_change's tunables are). */
export const DYNAMIC_VARIABLES: ReadonlySet<string> = new Set(['max_connections', 'wait_timeout', 'interactive_timeout', 'max_user_connections']);

const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE', 'PROTOCOL_CONNECTION_LOST', 'ER_CON_COUNT_ERROR']);

export class MysqlServerParameters implements RdsOps {
  /**
   * @param pool the server's pool
   * @param name what the timeline calls the server, e.g. `mysql://127.0.0.1:3306`
   */
  public constructor(private readonly pool: Pool, private readonly name: string) {}

  private fail(err: unknown, doing: string): ActionError {
    if (err instanceof ActionError) return err;
    const message = `rds_parameter_change: ${doing} on ${this.name} failed: ${(err as Error).message}`;
    return TRANSIENT_CODES.has((err as { code?: string }).code ?? '') ? new TransientTargetError(message, { target: this.name, cause: err }) : new ActionError(message, { target: this.name, cause: err });
  }

  private check(parameter: string): void {
    // The name is spliced into SQL (variables cannot be bound): only known identifiers pass.
    if (!DYNAMIC_VARIABLES.has(parameter)) throw new InvalidParameterError(`rds_parameter_change: "${parameter}" is not a dynamic variable this adapter sets (${[...DYNAMIC_VARIABLES].join(', ')})`, { target: this.name });
  }

  public async describeParameter(parameter: string): Promise<RdsParameterState> {
    this.check(parameter);
    let rows: RowDataPacket[];
    try {
      [rows] = await this.pool.query<RowDataPacket[]>('SHOW GLOBAL VARIABLES LIKE ?', [parameter]);
    } catch (err) {
      throw this.fail(err, 'SHOW GLOBAL VARIABLES');
    }
    const raw = rows[0]?.Value === undefined ? undefined : String(rows[0].Value);
    const value = raw === undefined ? undefined : Number(raw);
    return { group: `${this.name} (global variables)`, value: Number.isFinite(value) ? value : undefined, ...(raw !== undefined ? { raw } : {}), applyType: 'dynamic', modifiable: true, defaultGroup: false };
  }

  public async modifyParameter(_group: string, parameter: string, value: number): Promise<void> {
    this.check(parameter);
    if (!Number.isSafeInteger(value) || value <= 0) throw new InvalidParameterError(`rds_parameter_change: ${parameter} must be a positive integer, got ${value}`, { target: this.name });
    try {
      await this.pool.query(`SET GLOBAL ${parameter} = ?`, [value]);
    } catch (err) {
      throw this.fail(err, `SET GLOBAL ${parameter}`);
    }
  }
}
