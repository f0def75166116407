/** Errors of the expression language of conditions and parameters (lib/compiled/expression). */

/** Syntax or evaluation error inside one expression, template or condition string. */
export class ExpressionError extends Error {
  /** Offset (0-based) into the expression text where the problem starts. */
  public readonly offset: number;
  public constructor(message: string, offset: number) {
    super(message);
    this.name = 'ExpressionError';
    this.offset = offset;
  }
}

/** A variable an expression needs is not in the execution context. */
export class UnknownVariableError extends Error {
  public readonly variable: string;
  public constructor(variable: string, where?: string) {
    super(`unknown variable "${variable}"${where ? ` in ${where}` : ''}`);
    this.name = 'UnknownVariableError';
    this.variable = variable;
  }
}
