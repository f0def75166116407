/**
 * RDS parameter-group formulas (`{DBInstanceClassMemory/12582880}`, the default max_connections
 * of RDS for MySQL/MariaDB) resolved to the number the instance runs with, from the instance
 * class table below. A formula or class this module does not know is refused, never guessed.
 */
import { InvalidParameterError } from '../errors';

const GiB = 1024 ** 3;

/** Memory (GiB) and vCPUs by size, for the instance families below. */
const GENERAL: Readonly<Record<string, readonly [number, number]>> = {
  large: [8, 2], xlarge: [16, 4], '2xlarge': [32, 8], '4xlarge': [64, 16], '8xlarge': [128, 32],
  '12xlarge': [192, 48], '16xlarge': [256, 64], '24xlarge': [384, 96],
};
const MEMORY: Readonly<Record<string, readonly [number, number]>> = {
  large: [16, 2], xlarge: [32, 4], '2xlarge': [64, 8], '4xlarge': [128, 16], '8xlarge': [256, 32],
  '12xlarge': [384, 48], '16xlarge': [512, 64], '24xlarge': [768, 96],
};
const BURSTABLE: Readonly<Record<string, readonly [number, number]>> = {
  micro: [1, 2], small: [2, 2], medium: [4, 2], large: [8, 2], xlarge: [16, 4], '2xlarge': [32, 8],
};

/**
 * Instance families whose memory and vCPUs {@link instanceClassResources} knows (AWS "DB instance
 * classes" hardware specifications): general purpose m5/m6g/m6i/m7g (4 GiB per vCPU), memory
 * optimised r5/r6g/r6i/r7g (8 GiB per vCPU), burstable t3/t4g.
 */
export const INSTANCE_FAMILIES: Readonly<Record<string, Readonly<Record<string, readonly [number, number]>>>> = {
  m5: GENERAL, m6g: GENERAL, m6i: GENERAL, m7g: GENERAL,
  r5: MEMORY, r6g: MEMORY, r6i: MEMORY, r7g: MEMORY,
  t3: BURSTABLE, t4g: BURSTABLE,
};

/** What a formula may refer to, for one instance class. */
export interface InstanceClassResources {
  /** Nominal memory in bytes. */
  readonly DBInstanceClassMemory: number;
  readonly DBInstanceVCPU: number;
}

/**
 * Memory and vCPUs of a DB instance class. The memory is the class's nominal memory: RDS's own
 * DBInstanceClassMemory subtracts what the OS and RDS processes reserve (not published), so a
 * resolved `{DBInstanceClassMemory/12582880}` is a little above what the instance runs with.
 * @throws InvalidParameterError naming the class when it is not in {@link INSTANCE_FAMILIES}
 * @example instanceClassResources('db.r6g.large') // { DBInstanceClassMemory: 17179869184, DBInstanceVCPU: 2 }
 */
export function instanceClassResources(instanceClass: string): InstanceClassResources {
  const m = /^db\.([a-z0-9]+)\.([a-z0-9]+)$/.exec(instanceClass);
  const spec = m ? INSTANCE_FAMILIES[m[1] as string]?.[m[2] as string] : undefined;
  if (!spec) {
    throw new InvalidParameterError(`rds_parameter_change: instance class "${instanceClass}" is not in the table of lib/actions/rds/formula.ts (families ${Object.keys(INSTANCE_FAMILIES).join(', ')}), so its formula cannot be resolved; set the parameter to a number in the parameter group, or add the class`, { target: instanceClass });
  }
  return { DBInstanceClassMemory: spec[0] * GiB, DBInstanceVCPU: spec[1] };
}

type Token = { kind: 'num'; value: number } | { kind: 'name'; text: string } | { kind: 'op'; text: string };

function tokenize(formula: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|([-+*/(){},]))/y;
  let i = 0;
  while (i < formula.length) {
    if (/^\s*$/.test(formula.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(formula);
    if (!m) throw new InvalidParameterError(`RDS formula "${formula}": unexpected "${formula.slice(i).trim()[0]}" at ${i}`);
    if (m[1] !== undefined) tokens.push({ kind: 'num', value: Number(m[1]) });
    else if (m[2] !== undefined) tokens.push({ kind: 'name', text: m[2] });
    else tokens.push({ kind: 'op', text: m[3] as string });
    i = re.lastIndex;
  }
  return tokens;
}

const FUNCTIONS: Readonly<Record<string, (args: number[]) => number>> = {
  GREATEST: (a) => Math.max(...a),
  LEAST: (a) => Math.min(...a),
  SUM: (a) => a.reduce((x, y) => x + y, 0),
  // RDS formulas use log base 2 (Aurora MySQL's max_connections formula gives 1000 on db.r5.large with it).
  log: (a) => Math.log2(a[0] as number),
};

/**
 * Evaluates an RDS parameter formula: numbers, DBInstanceClassMemory, DBInstanceVCPU, `+ - * /`,
 * `{...}` and `(...)` grouping, GREATEST, LEAST, SUM and log (base 2). The result is truncated to
 * an integer, as RDS does for integer parameters.
 * @throws InvalidParameterError naming the formula for anything else
 * @example resolveFormula('{DBInstanceClassMemory/12582880}', instanceClassResources('db.r6g.large')) // 1365
 */
export function resolveFormula(formula: string, resources: InstanceClassResources): number {
  const tokens = tokenize(formula);
  let pos = 0;
  const fail = (why: string): never => {
    throw new InvalidParameterError(`RDS formula "${formula}": ${why}`);
  };
  const peek = () => tokens[pos];
  const take = (text: string) => {
    const t = tokens[pos];
    if (t?.kind !== 'op' || t.text !== text) fail(`expected "${text}"`);
    pos += 1;
  };
  const primary = (): number => {
    const t = tokens[pos++];
    if (!t) return fail('ends too early');
    if (t.kind === 'num') return t.value;
    if (t.kind === 'op' && (t.text === '(' || t.text === '{')) {
      const v = sum();
      take(t.text === '(' ? ')' : '}');
      return v;
    }
    if (t.kind === 'op' && t.text === '-') return -primary();
    if (t.kind === 'name') {
      const fn = FUNCTIONS[t.text];
      if (fn) {
        take('(');
        const args = [sum()];
        while (peek()?.kind === 'op' && (peek() as { text: string }).text === ',') {
          pos += 1;
          args.push(sum());
        }
        take(')');
        return fn(args);
      }
      if (t.text === 'DBInstanceClassMemory' || t.text === 'DBInstanceVCPU') return resources[t.text];
      return fail(`unknown name "${t.text}" (known: DBInstanceClassMemory, DBInstanceVCPU, ${Object.keys(FUNCTIONS).join(', ')})`);
    }
    return fail(`unexpected "${t.text}"`);
  };
  const product = (): number => {
    let v = primary();
    for (let t = peek(); t?.kind === 'op' && (t.text === '*' || t.text === '/'); t = peek()) {
      pos += 1;
      const r = primary();
      if (t.text === '/' && r === 0) fail('division by zero');
      v = t.text === '*' ? v * r : v / r;
    }
    return v;
  };
  function sum(): number {
    let v = product();
    for (let t = peek(); t?.kind === 'op' && (t.text === '+' || t.text === '-'); t = peek()) {
      pos += 1;
      v = t.text === '+' ? v + product() : v - product();
    }
    return v;
  }
  const value = sum();
  if (pos !== tokens.length) fail('unexpected text after the formula');
  if (!Number.isFinite(value)) fail('does not give a finite number');
  return Math.trunc(value);
}

/** True when a parameter value is a formula rather than a literal number. */
export function isFormula(value: string): boolean {
  return /[{A-Za-z]/.test(value);
}
