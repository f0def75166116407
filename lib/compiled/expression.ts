/** The playbook expression language (parameters, `{{ }}` templates, conditions): a hand-written tokenizer and recursive-descent parser, evaluated by walking the tree, never run as JavaScript. */
import { ExpressionError, UnknownVariableError } from './errors';

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

/** Physical dimension of a number literal: `200ms` is time, `85%` is ratio, `2` is none. */
export type Dimension = 'time' | 'ratio' | 'none';

/**
 * Syntax tree of one expression. Number literals are normalised to base units (time in seconds,
 * percent as a ratio) and keep their source text for display.
 */
export type Expr =
  | { readonly type: 'number'; readonly value: number; readonly dimension: Dimension; readonly text: string }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'constant'; readonly value: boolean | null }
  /** `offset` is where the name starts in the parsed string (for a template: in the whole template). */
  | { readonly type: 'variable'; readonly name: string; readonly offset: number }
  | { readonly type: 'arithmetic'; readonly op: '+' | '-' | '*' | '/'; readonly left: Expr; readonly right: Expr }
  | {
      readonly type: 'compare';
      readonly op: CompareOp;
      readonly left: Expr;
      readonly right: Expr;
      /** Written `x still > y`: the condition re-checks something that held before. */
      readonly still: boolean;
    }
  | { readonly type: 'is'; readonly negated: boolean; readonly left: Expr; readonly right: Expr }
  | { readonly type: 'and' | 'or'; readonly left: Expr; readonly right: Expr }
  | { readonly type: 'not'; readonly operand: Expr }
  /** Python style: `then if test else otherwise`. */
  | { readonly type: 'conditional'; readonly test: Expr; readonly then: Expr; readonly otherwise: Expr }
  /** Postfix word: `recent_deploy detected`, `expiring_certs found`, `lag increasing`. */
  | { readonly type: 'predicate'; readonly name: PredicateName; readonly operand: Expr };

export type CompareOp = '>' | '>=' | '<' | '<=' | '==' | '!=';
export type PredicateName = 'detected' | 'found' | 'increasing' | 'decreasing';

/**
 * When a condition is checked, from its trailing clause. `text` is the clause as written, with
 * whitespace normalised (`after 3min`, `for 5min`, `after step 1`, `after cleanup`).
 */
export type Timing =
  | { readonly kind: 'after'; readonly seconds: number; readonly text: string }
  /** The condition must have held for the whole window. */
  | { readonly kind: 'for'; readonly seconds: number; readonly text: string }
  /** `after step 1` gives 1 (1-based); `after cleanup` gives 'cleanup', a step or event the compiler resolves. */
  | { readonly kind: 'after_step'; readonly step: number | string; readonly text: string };

/** A parsed condition: a boolean expression and at most one timing clause at its end. */
export interface Condition {
  readonly source: string;
  readonly expr: Expr;
  readonly timing?: Timing;
  /** True if any comparison in the condition is written with `still`. */
  readonly still: boolean;
}

/** Literal text, or one `{{ ... }}` part with its trimmed source and where that source starts in the template. */
export type TemplatePart = string | { readonly expr: Expr; readonly source: string; readonly offset: number };

/** A string with `{{ ... }}` parts; everything outside the braces is kept literally. */
export interface Template {
  readonly source: string;
  readonly parts: readonly TemplatePart[];
}

/** "No data" for a metric. It propagates through arithmetic and logic, and is never silently false or zero. */
export const UNKNOWN: unique symbol = Symbol.for('sre-agent.expression.unknown');

/** A runtime value. Lists and objects (e.g. `expiring_certs`) are opaque except for truthiness and `==`. */
export type Value =
  | number
  | string
  | boolean
  | null
  | typeof UNKNOWN
  | readonly unknown[]
  | Readonly<Record<string, unknown>>;

/** Resolves a variable; `undefined` means the variable does not exist (an error, unlike UNKNOWN). */
export type Lookup = (name: string) => Value | undefined;

// ---------------------------------------------------------------------------------------------
// Tokenizer
// ---------------------------------------------------------------------------------------------

type Token =
  | { readonly kind: 'number'; readonly text: string; readonly start: number; readonly end: number; readonly value: number; readonly dimension: Dimension }
  | { readonly kind: 'string'; readonly text: string; readonly start: number; readonly end: number; readonly value: string }
  | { readonly kind: 'word' | 'op' | 'eof'; readonly text: string; readonly start: number; readonly end: number };

const UNITS: Readonly<Record<string, { readonly multiply: number; readonly divide: number; readonly dimension: Dimension }>> = {
  ms: { multiply: 1, divide: 1000, dimension: 'time' },
  s: { multiply: 1, divide: 1, dimension: 'time' },
  min: { multiply: 60, divide: 1, dimension: 'time' },
  m: { multiply: 60, divide: 1, dimension: 'time' },
  h: { multiply: 3600, divide: 1, dimension: 'time' },
  d: { multiply: 86400, divide: 1, dimension: 'time' },
  '%': { multiply: 1, divide: 100, dimension: 'ratio' },
};
const UNIT_LIST = 'ms, s, min, m, h, d or %';

const PREDICATES: ReadonlySet<string> = new Set<PredicateName>(['detected', 'found', 'increasing', 'decreasing']);
const CONSTANTS: Readonly<Record<string, boolean | null>> = {
  None: null,
  null: null,
  True: true,
  true: true,
  False: false,
  false: false,
};
const KEYWORDS: ReadonlySet<string> = new Set([
  'and', 'or', 'not', 'is', 'if', 'else', 'still', 'after', 'for', 'step',
  ...PREDICATES,
  ...Object.keys(CONSTANTS),
]);
const COMPARE_OPS: ReadonlySet<string> = new Set<CompareOp>(['>', '>=', '<', '<=', '==', '!=']);
const ALL_CAPS = /^[A-Z][A-Z0-9_]*$/;

const NUMBER = /[0-9]+(?:\.[0-9]+)?/y;
/** Words in any script, so that a timing clause can name a step `扩容` (`after 扩容`); values stay ASCII (parsePrimary). */
const WORD = /[\p{L}_][\p{L}\p{M}\p{N}_]*/uy;
const SPACE = /\s/;
const TWO_CHAR_OPS: ReadonlySet<string> = new Set(['>=', '<=', '==', '!=']);
const ONE_CHAR_OPS: ReadonlySet<string> = new Set(['>', '<', '+', '-', '*', '/', '(', ')']);
/** Characters people reach for from other languages, with what to write instead. */
const MISTAKES: Readonly<Record<string, string>> = {
  '=': "use '==' to compare",
  '!': "use 'not' (or '!=' to compare)",
  '&': "use 'and'",
  '|': "use 'or'",
};
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t', r: '\r' };

function matchAt(re: RegExp, text: string, at: number): string | undefined {
  re.lastIndex = at;
  return re.exec(text)?.[0];
}

/** Splits `text` into tokens; offsets are `base` + index, so template parts report template offsets. */
function tokenize(text: string, base: number): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (SPACE.test(c)) {
      i += 1;
      continue;
    }
    const start = i;
    const digits = matchAt(NUMBER, text, i);
    if (digits !== undefined) {
      i += digits.length;
      let unit = '';
      if (text[i] === '%') unit = '%';
      else unit = matchAt(/[A-Za-z0-9_]*/y, text, i) ?? '';
      const spec = UNITS[unit];
      if (unit !== '' && spec === undefined) {
        throw new ExpressionError(`unknown unit '${unit}' in '${digits}${unit}'; use ${UNIT_LIST}`, base + i);
      }
      i += unit.length;
      const n = Number(digits);
      tokens.push({
        kind: 'number',
        text: text.slice(start, i),
        start: base + start,
        end: base + i,
        value: spec ? (n * spec.multiply) / spec.divide : n,
        dimension: spec ? spec.dimension : 'none',
      });
      continue;
    }
    const word = matchAt(WORD, text, i);
    if (word !== undefined) {
      i += word.length;
      tokens.push({ kind: 'word', text: word, start: base + start, end: base + i });
      continue;
    }
    if (c === '"' || c === "'") {
      let value = '';
      i += 1;
      for (;;) {
        if (i >= text.length) throw new ExpressionError(`unterminated string: missing the closing ${c}`, base + start);
        const d = text[i] as string;
        if (d === c) break;
        if (d === '\\') {
          const e = text[i + 1];
          const escaped = e === undefined ? undefined : ESCAPES[e];
          if (escaped === undefined) throw new ExpressionError(`unknown escape '\\${e ?? ''}' in a string; use \\\\, \\', \\", \\n, \\t or \\r`, base + i);
          value += escaped;
          i += 2;
        } else {
          value += d;
          i += 1;
        }
      }
      i += 1;
      tokens.push({ kind: 'string', text: text.slice(start, i), start: base + start, end: base + i, value });
      continue;
    }
    const two = text.slice(i, i + 2);
    const op = TWO_CHAR_OPS.has(two) ? two : ONE_CHAR_OPS.has(c) ? c : undefined;
    if (op !== undefined) {
      i += op.length;
      tokens.push({ kind: 'op', text: op, start: base + start, end: base + i });
      continue;
    }
    const ch = String.fromCodePoint(text.codePointAt(i) as number);
    const hint = MISTAKES[ch];
    throw new ExpressionError(hint ? `unexpected '${ch}'; ${hint}` : `unexpected character '${ch}'`, base + i);
  }
  tokens.push({ kind: 'eof', text: '', start: base + text.length, end: base + text.length });
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------

interface Span {
  readonly start: number;
  readonly end: number;
}

/** Source span of every parsed node, kept off the tree so that the tree stays plain data. */
const spans = new WeakMap<Expr, Span>();

function spanOf(e: Expr): Span {
  return spans.get(e) ?? { start: 0, end: 0 };
}

function isWord(t: Token, ...words: string[]): boolean {
  return t.kind === 'word' && words.includes(t.text);
}

function isOp(t: Token, ...ops: string[]): boolean {
  return t.kind === 'op' && ops.includes(t.text);
}

function quote(t: Token): string {
  return t.kind === 'eof' ? 'the end' : `'${t.text}'`;
}

/** Recursive descent, one method per precedence level, lowest first. */
class Parser {
  private pos = 0;

  public constructor(private readonly tokens: readonly Token[]) {}

  public peek(): Token {
    return this.tokens[this.pos] as Token;
  }

  private previous(): Token | undefined {
    return this.pos > 0 ? this.tokens[this.pos - 1] : undefined;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.pos += 1;
    return t;
  }

  private node<E extends Expr>(e: E, start: number, end: number): E {
    spans.set(e, { start, end });
    return e;
  }

  /** conditional := or ('if' or 'else' conditional)? */
  public parseConditional(): Expr {
    const then = this.parseOr();
    if (!isWord(this.peek(), 'if')) return then;
    this.next();
    const test = this.parseOr();
    const t = this.peek();
    if (!isWord(t, 'else')) {
      throw new ExpressionError(
        `expected 'else' to complete '... if ... else ...', ${t.kind === 'eof' ? 'but reached the end' : `found ${quote(t)}`}`,
        t.start,
      );
    }
    this.next();
    const otherwise = this.parseConditional();
    return this.node({ type: 'conditional', test, then, otherwise }, spanOf(then).start, spanOf(otherwise).end);
  }

  private parseOr(): Expr {
    let left = this.parseAnd();
    while (isWord(this.peek(), 'or')) {
      this.next();
      const right = this.parseAnd();
      left = this.node({ type: 'or', left, right }, spanOf(left).start, spanOf(right).end);
    }
    return left;
  }

  private parseAnd(): Expr {
    let left = this.parseNot();
    while (isWord(this.peek(), 'and')) {
      this.next();
      const right = this.parseNot();
      left = this.node({ type: 'and', left, right }, spanOf(left).start, spanOf(right).end);
    }
    return left;
  }

  private parseNot(): Expr {
    const t = this.peek();
    if (!isWord(t, 'not')) return this.parseComparison();
    this.next();
    const operand = this.parseNot();
    return this.node({ type: 'not', operand }, t.start, spanOf(operand).end);
  }

  /** comparison := additive (['still'] compare-op additive | 'is' ['not'] additive | predicate)?, never chained. */
  private parseComparison(): Expr {
    const left = this.parseAdditive();
    const start = spanOf(left).start;
    let t = this.peek();
    let result: Expr;
    let opText: string;
    if (isWord(t, 'still') || (t.kind === 'op' && COMPARE_OPS.has(t.text))) {
      const still = isWord(t, 'still');
      if (still) {
        this.next();
        t = this.peek();
        if (!(t.kind === 'op' && COMPARE_OPS.has(t.text))) {
          throw new ExpressionError(
            `expected a comparison operator ('>', '>=', '<', '<=', '==', '!=') after 'still', ${t.kind === 'eof' ? 'but reached the end' : `found ${quote(t)}`}`,
            t.start,
          );
        }
      }
      const op = this.next();
      opText = still ? `still ${op.text}` : op.text;
      const right = this.parseAdditive();
      checkUnits(left, right, op, 'compare');
      result = this.node({ type: 'compare', op: op.text as CompareOp, left, right, still }, start, spanOf(right).end);
    } else if (isWord(t, 'is')) {
      this.next();
      const negated = isWord(this.peek(), 'not');
      if (negated) this.next();
      opText = negated ? 'is not' : 'is';
      const right = this.parseAdditive();
      result = this.node({ type: 'is', negated, left, right }, start, spanOf(right).end);
    } else if (t.kind === 'word' && PREDICATES.has(t.text)) {
      this.next();
      opText = t.text;
      result = this.node({ type: 'predicate', name: t.text as PredicateName, operand: left }, start, t.end);
    } else {
      return left;
    }
    const after = this.peek();
    if ((after.kind === 'op' && COMPARE_OPS.has(after.text)) || isWord(after, 'still', 'is', ...PREDICATES)) {
      throw new ExpressionError(
        `comparisons do not chain: '${after.text}' cannot follow '${opText}'; join them with 'and' (a < b and b < c) or add parentheses`,
        after.start,
      );
    }
    return result;
  }

  private parseAdditive(): Expr {
    let left = this.parseMultiplicative();
    while (isOp(this.peek(), '+', '-')) {
      const op = this.next();
      const right = this.parseMultiplicative();
      checkUnits(left, right, op, op.text === '+' ? 'add' : 'subtract');
      left = this.node({ type: 'arithmetic', op: op.text as '+' | '-', left, right }, spanOf(left).start, spanOf(right).end);
    }
    return left;
  }

  private parseMultiplicative(): Expr {
    let left = this.parseUnary();
    while (isOp(this.peek(), '*', '/')) {
      const op = this.next();
      const right = this.parseUnary();
      left = this.node({ type: 'arithmetic', op: op.text as '*' | '/', left, right }, spanOf(left).start, spanOf(right).end);
    }
    return left;
  }

  /** A minus before a literal folds into it (`-5min`); before anything else it becomes `0 - x`, as the tree has no negation node. */
  private parseUnary(): Expr {
    const t = this.peek();
    if (!isOp(t, '-')) return this.parsePrimary();
    this.next();
    const operand = this.parseUnary();
    const end = spanOf(operand).end;
    if (operand.type === 'number') {
      return this.node({ ...operand, value: -operand.value, text: `-${operand.text}` }, t.start, end);
    }
    const zero = this.node({ type: 'number', value: 0, dimension: 'none', text: '0' } as const, t.start, t.start);
    return this.node({ type: 'arithmetic', op: '-', left: zero, right: operand }, t.start, end);
  }

  private parsePrimary(): Expr {
    const t = this.peek();
    switch (t.kind) {
      case 'number':
        this.next();
        return this.node({ type: 'number', value: t.value, dimension: t.dimension, text: t.text }, t.start, t.end);
      case 'string':
        this.next();
        return this.node({ type: 'string', value: t.value }, t.start, t.end);
      case 'word': {
        const constant = CONSTANTS[t.text];
        if (constant !== undefined) {
          this.next();
          return this.node({ type: 'constant', value: constant }, t.start, t.end);
        }
        if (KEYWORDS.has(t.text)) throw this.expectedValue(t);
        // Only a step may be named outside ASCII (`after 扩容`); a value is a metric or variable.
        const foreign = /[^\x00-\x7f]/.exec(t.text);
        if (foreign) throw new ExpressionError(`unexpected character '${foreign[0]}'`, t.start + foreign.index);
        this.next();
        if (ALL_CAPS.test(t.text)) return this.node({ type: 'string', value: t.text }, t.start, t.end);
        return this.node({ type: 'variable', name: t.text, offset: t.start }, t.start, t.end);
      }
      case 'op': {
        if (t.text !== '(') throw this.expectedValue(t);
        this.next();
        const inner = this.parseConditional();
        const close = this.peek();
        if (!isOp(close, ')')) {
          const found = close.kind === 'eof' ? 'but reached the end' : `found ${quote(close)}`;
          const hint = isWord(close, 'after', 'for') ? '; a timing clause may only end a condition, outside any parentheses' : '';
          throw new ExpressionError(`expected ')' to close the '(' at offset ${t.start}, ${found}${hint}`, close.start);
        }
        this.next();
        return inner;
      }
      case 'eof':
        throw this.expectedValue(t);
    }
  }

  private expectedValue(t: Token): ExpressionError {
    const prev = this.previous();
    const after = prev ? ` after '${prev.text}'` : '';
    const found = t.kind === 'eof' ? 'but reached the end' : `but found ${quote(t)}`;
    return new ExpressionError(`expected a value${after} ${found}`, t.start);
  }

  /** Throws unless every token was used. `context` names what is being parsed, for the message. */
  public expectEnd(context: 'an expression' | 'a template expression'): void {
    const t = this.peek();
    if (t.kind === 'eof') return;
    if (isWord(t, 'after', 'for')) {
      throw new ExpressionError(
        `a timing clause ('${t.text} ...') may only end a condition; it is not allowed in ${context}`,
        t.start,
      );
    }
    throw this.unexpected(t);
  }

  public unexpected(t: Token): ExpressionError {
    if (isOp(t, ')')) return new ExpressionError("unmatched ')'", t.start);
    const prev = this.previous();
    const unitHint =
      prev?.kind === 'number' && t.kind === 'word' && UNITS[t.text] !== undefined
        ? `; write the unit right after the number: '${prev.text}${t.text}'`
        : '';
    const after = prev ? ` after '${prev.text}'` : '';
    return new ExpressionError(`unexpected ${quote(t)}${after}; expected an operator or the end${unitHint}`, t.start);
  }

  /** timing := 'after' (duration | 'step' (int | name) | name) | 'for' duration */
  public parseTiming(): Timing {
    const kw = this.next();
    const t = this.peek();
    if (kw.text === 'for') {
      if (isWord(t, 'step') || (t.kind === 'word' && !KEYWORDS.has(t.text))) {
        throw new ExpressionError(`'for' needs a duration such as 'for 5min', not a step`, t.start);
      }
      const seconds = this.parseDuration('for');
      return { kind: 'for', seconds, text: `for ${this.previous()?.text ?? ''}` };
    }
    if (isWord(t, 'step')) {
      this.next();
      const s = this.peek();
      if (s.kind === 'number') {
        if (s.dimension !== 'none' || !Number.isInteger(s.value) || s.value < 1) {
          throw new ExpressionError(`step number must be a whole number from 1 (steps count from 1), found '${s.text}'`, s.start);
        }
        this.next();
        return { kind: 'after_step', step: s.value, text: `after step ${s.text}` };
      }
      if (s.kind === 'word' && !KEYWORDS.has(s.text)) {
        this.next();
        return { kind: 'after_step', step: s.text, text: `after step ${s.text}` };
      }
      if (isOp(s, '-')) throw new ExpressionError(`step number must be a whole number from 1 (steps count from 1)`, s.start);
      throw new ExpressionError(
        `expected a step number or name after 'after step', ${s.kind === 'eof' ? 'but reached the end' : `found ${quote(s)}`}`,
        s.start,
      );
    }
    if (t.kind === 'word' && !KEYWORDS.has(t.text)) {
      this.next();
      return { kind: 'after_step', step: t.text, text: `after ${t.text}` };
    }
    const seconds = this.parseDuration('after');
    return { kind: 'after', seconds, text: `after ${this.previous()?.text ?? ''}` };
  }

  private parseDuration(kw: 'after' | 'for'): number {
    const t = this.peek();
    const expected = kw === 'after' ? "expected a duration or 'step N' after 'after'" : "expected a duration after 'for'";
    if (isOp(t, '-')) throw new ExpressionError(`duration must be positive, found '-' after '${kw}'`, t.start);
    if (t.kind !== 'number') {
      throw new ExpressionError(`${expected}, ${t.kind === 'eof' ? 'but reached the end' : `found ${quote(t)}`}`, t.start);
    }
    if (t.dimension === 'none') {
      const step = kw === 'after' ? `, or 'after step ${t.text}' for a step` : '';
      throw new ExpressionError(`${expected}: '${t.text}' has no unit; write e.g. '${t.text}min' (${UNIT_LIST.replace(' or %', '')})${step}`, t.start);
    }
    if (t.dimension !== 'time') throw new ExpressionError(`${expected}, found the ${t.dimension} '${t.text}'`, t.start);
    if (t.value <= 0) throw new ExpressionError(`duration must be positive, found '${t.text}'`, t.start);
    this.next();
    return t.value;
  }
}

/** Literal numbers of different dimensions cannot meet (`200ms > 85%`); variables carry no unit, so they always can. */
function checkUnits(left: Expr, right: Expr, op: Token, verb: 'compare' | 'add' | 'subtract'): void {
  if (
    left.type === 'number' &&
    right.type === 'number' &&
    left.dimension !== 'none' &&
    right.dimension !== 'none' &&
    left.dimension !== right.dimension
  ) {
    throw new ExpressionError(
      `cannot ${verb} a ${left.dimension} (${left.text}) and a ${right.dimension} (${right.text}) with '${op.text}'`,
      op.start,
    );
  }
}

/** A condition must produce true or false: a bare number, text or calculation is almost surely a typo. */
function checkIsCondition(e: Expr): void {
  switch (e.type) {
    case 'number':
    case 'arithmetic': {
      const text = formatExpr(e);
      throw new ExpressionError(
        `expected a condition (a comparison, a predicate or a yes/no variable), but '${text}' is a number; compare it, e.g. '${text} > 0'`,
        spanOf(e).start,
      );
    }
    case 'string':
      throw new ExpressionError(
        `expected a condition (a comparison, a predicate or a yes/no variable), but '${formatExpr(e)}' is text`,
        spanOf(e).start,
      );
    case 'and':
    case 'or':
      checkIsCondition(e.left);
      checkIsCondition(e.right);
      return;
    case 'not':
      checkIsCondition(e.operand);
      return;
    case 'conditional':
      checkIsCondition(e.then);
      checkIsCondition(e.otherwise);
      return;
    default:
      return;
  }
}

function usesStill(e: Expr): boolean {
  switch (e.type) {
    case 'compare':
      return e.still || usesStill(e.left) || usesStill(e.right);
    case 'arithmetic':
    case 'is':
    case 'and':
    case 'or':
      return usesStill(e.left) || usesStill(e.right);
    case 'not':
    case 'predicate':
      return usesStill(e.operand);
    case 'conditional':
      return usesStill(e.test) || usesStill(e.then) || usesStill(e.otherwise);
    default:
      return false;
  }
}

/**
 * Parses a whole-string expression, e.g. a parameter value.
 *
 * @example parseExpression('current_max * 2') // { type: 'arithmetic', op: '*', ... }
 * @throws ExpressionError with the offset of the first problem.
 */
export function parseExpression(source: string): Expr {
  const parser = new Parser(tokenize(source, 0));
  const expr = parser.parseConditional();
  parser.expectEnd('an expression');
  return expr;
}

/**
 * Parses a condition: a boolean expression, then optionally one timing clause at the very end
 * (`after 3min`, `for 5min`, `after step 1`, `after cleanup`).
 *
 * @example parseCondition('latency_p99 still > 200ms after 3min').timing // { kind: 'after', seconds: 180, text: 'after 3min' }
 * @throws ExpressionError with the offset of the first problem.
 */
export function parseCondition(source: string): Condition {
  const parser = new Parser(tokenize(source, 0));
  const expr = parser.parseConditional();
  let timing: Timing | undefined;
  if (isWord(parser.peek(), 'after', 'for')) timing = parser.parseTiming();
  const rest = parser.peek();
  if (rest.kind !== 'eof') {
    if (timing === undefined) throw parser.unexpected(rest);
    if (isWord(rest, 'after', 'for')) {
      throw new ExpressionError(`only one timing clause is allowed; '${timing.text}' already sets it`, rest.start);
    }
    throw new ExpressionError(
      `the timing clause '${timing.text}' must come at the very end of the condition, but ${quote(rest)} follows it`,
      rest.start,
    );
  }
  checkIsCondition(expr);
  return timing === undefined ? { source, expr, still: usesStill(expr) } : { source, expr, timing, still: usesStill(expr) };
}

/** True if `source` has a `{{` and so must go through {@link parseTemplate}. */
export function isTemplate(source: string): boolean {
  return source.includes('{{');
}

/**
 * Splits a string into literal text and `{{ expression }}` parts. Text outside the braces (any
 * language, any lines) is kept as is. Offsets in the parts, in their variables and in errors
 * count from the start of the whole template. The first `}}` closes a part.
 *
 * @example parseTemplate('证书即将到期: {{cert_name}}').parts // ['证书即将到期: ', { expr, source: 'cert_name', offset: 10 }]
 * @throws ExpressionError for an unclosed `{{`, an empty `{{ }}` or a bad expression inside.
 */
export function parseTemplate(source: string): Template {
  const parts: TemplatePart[] = [];
  let at = 0;
  for (;;) {
    const open = source.indexOf('{{', at);
    if (open < 0) break;
    if (open > at) parts.push(source.slice(at, open));
    const close = source.indexOf('}}', open + 2);
    if (close < 0) throw new ExpressionError("unclosed '{{': no '}}' after it", open);
    const raw = source.slice(open + 2, close);
    const lead = raw.length - raw.trimStart().length;
    const text = raw.trim();
    if (text === '') throw new ExpressionError("empty '{{ }}': put an expression between the braces", open);
    const offset = open + 2 + lead;
    const parser = new Parser(tokenize(text, offset));
    const expr = parser.parseConditional();
    parser.expectEnd('a template expression');
    parts.push({ expr, source: text, offset });
    at = close + 2;
  }
  if (at < source.length) parts.push(source.slice(at));
  return { source, parts };
}

// ---------------------------------------------------------------------------------------------
// Queries and formatting
// ---------------------------------------------------------------------------------------------

/** One use of a variable and where its name starts (in the parsed string, or in the whole template). */
export interface VariableRef {
  readonly name: string;
  readonly offset: number;
}

function collectVariables(e: Expr, out: VariableRef[]): void {
  switch (e.type) {
    case 'variable':
      out.push({ name: e.name, offset: e.offset });
      return;
    case 'arithmetic':
    case 'compare':
    case 'is':
    case 'and':
    case 'or':
      collectVariables(e.left, out);
      collectVariables(e.right, out);
      return;
    case 'not':
    case 'predicate':
      collectVariables(e.operand, out);
      return;
    case 'conditional':
      // Source order: `then if test else otherwise`.
      collectVariables(e.then, out);
      collectVariables(e.test, out);
      collectVariables(e.otherwise, out);
      return;
    default:
      return;
  }
}

/**
 * Distinct variable names, in order of first appearance. A step named by `after cleanup` is not
 * a variable.
 */
export function variablesOf(node: Expr | Condition | Template): string[] {
  return [...new Set(variableRefs(node).map((r) => r.name))];
}

/**
 * Every use of a variable, in source order, with its offset: the loader points an "unknown
 * variable" error at the name itself, not at the first place its text happens to occur.
 */
export function variableRefs(node: Expr | Condition | Template): VariableRef[] {
  const out: VariableRef[] = [];
  if ('type' in node) {
    collectVariables(node, out);
  } else if ('parts' in node) {
    for (const p of node.parts) if (typeof p !== 'string') collectVariables(p.expr, out);
  } else {
    collectVariables(node.expr, out);
  }
  return out;
}

/** Binding strength, as in the grammar: higher binds tighter. */
function precedence(e: Expr): number {
  switch (e.type) {
    case 'conditional':
      return 1;
    case 'or':
      return 2;
    case 'and':
      return 3;
    case 'not':
      return 4;
    case 'compare':
    case 'is':
    case 'predicate':
      return 5;
    case 'arithmetic':
      return e.op === '+' || e.op === '-' ? 6 : 7;
    default:
      return 9;
  }
}

function wrap(e: Expr, parens: boolean): string {
  const text = formatExpr(e);
  return parens ? `(${text})` : text;
}

function formatString(value: string): string {
  if (ALL_CAPS.test(value)) return value;
  return `"${value.replace(/[\\"\n\t\r]/g, (c) => ({ '\\': '\\\\', '"': '\\"', '\n': '\\n', '\t': '\\t', '\r': '\\r' })[c] ?? c)}"`;
}

/**
 * Canonical readable form, with only the parentheses the tree needs; it parses back to the same
 * tree. Numbers keep their source text.
 *
 * @example formatExpr(parseExpression('latency_p99>200ms')) // 'latency_p99 > 200ms'
 */
export function formatExpr(node: Expr): string {
  switch (node.type) {
    case 'number':
      return node.text;
    case 'string':
      return formatString(node.value);
    case 'constant':
      return node.value === null ? 'None' : node.value ? 'True' : 'False';
    case 'variable':
      return node.name;
    case 'arithmetic': {
      const p = precedence(node);
      return `${wrap(node.left, precedence(node.left) < p)} ${node.op} ${wrap(node.right, precedence(node.right) <= p)}`;
    }
    case 'compare':
      return `${wrap(node.left, precedence(node.left) <= 5)} ${node.still ? 'still ' : ''}${node.op} ${wrap(node.right, precedence(node.right) <= 5)}`;
    case 'is':
      return `${wrap(node.left, precedence(node.left) <= 5)} is ${node.negated ? 'not ' : ''}${wrap(node.right, precedence(node.right) <= 5)}`;
    case 'predicate':
      return `${wrap(node.operand, precedence(node.operand) <= 5)} ${node.name}`;
    case 'not':
      return `not ${wrap(node.operand, precedence(node.operand) < 4)}`;
    case 'and':
    case 'or': {
      const p = precedence(node);
      return `${wrap(node.left, precedence(node.left) < p)} ${node.type} ${wrap(node.right, precedence(node.right) <= p)}`;
    }
    case 'conditional':
      return `${wrap(node.then, precedence(node.then) <= 1)} if ${wrap(node.test, precedence(node.test) <= 1)} else ${formatExpr(node.otherwise)}`;
  }
}

/**
 * Canonical form of a condition with its timing clause.
 *
 * @example formatCondition(parseCondition('latency_p99  still>200ms after  3min')) // 'latency_p99 still > 200ms after 3min'
 */
export function formatCondition(c: Condition): string {
  const expr = formatExpr(c.expr);
  return c.timing ? `${expr} ${c.timing.text}` : expr;
}

/**
 * A value as text inside a template: numbers with at most 6 decimals and no trailing zeros,
 * null as `None`, booleans as `True`/`False` (the playbooks' Python spelling), UNKNOWN as
 * `unknown`, lists and objects as JSON.
 */
export function formatValue(v: Value): string {
  if (v === UNKNOWN) return 'unknown';
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return String(v);
    const rounded = Number(v.toFixed(6));
    return String(rounded === 0 ? 0 : rounded);
  }
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

// ---------------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------------

type Known = Exclude<Value, typeof UNKNOWN>;

function typeName(v: Value): string {
  if (v === UNKNOWN) return 'unknown';
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'list';
  return typeof v === 'object' ? 'object' : typeof v;
}

/** Python truthiness: false, None, 0, '', [] and {} are false. */
function isTruthy(v: Known): boolean {
  if (v === null || typeof v === 'boolean') return v === true;
  if (typeof v === 'number') return v !== 0 && !Number.isNaN(v);
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  return Object.keys(v).length > 0;
}

function truth(v: Value): boolean | typeof UNKNOWN {
  return v === UNKNOWN ? UNKNOWN : isTruthy(v);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(a) || Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return (
    ka.length === kb.length &&
    ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

function isOrderable(v: Value): v is number | string {
  return typeof v === 'number' || typeof v === 'string';
}

function evaluateArithmetic(e: Extract<Expr, { type: 'arithmetic' }>, lookup: Lookup): Value {
  const l = evaluate(e.left, lookup);
  const r = evaluate(e.right, lookup);
  const bad = (v: Value): boolean => v !== UNKNOWN && typeof v !== 'number';
  if (bad(l) || bad(r)) {
    throw new ExpressionError(
      `cannot apply '${e.op}' to ${typeName(l)} and ${typeName(r)} in '${formatExpr(e)}': arithmetic needs numbers`,
      spanOf(e).start,
    );
  }
  if (typeof l !== 'number' || typeof r !== 'number') return UNKNOWN;
  switch (e.op) {
    case '+':
      return l + r;
    case '-':
      return l - r;
    case '*':
      return l * r;
    case '/':
      if (r === 0) throw new ExpressionError(`division by zero in '${formatExpr(e)}'`, spanOf(e).start);
      return l / r;
  }
}

function evaluateCompare(e: Extract<Expr, { type: 'compare' }>, lookup: Lookup): Value {
  const l = evaluate(e.left, lookup);
  const r = evaluate(e.right, lookup);
  if (e.op === '==' || e.op === '!=') {
    if (l === UNKNOWN || r === UNKNOWN) return UNKNOWN;
    return sameValue(l, r) === (e.op === '==');
  }
  if ((typeof l === 'number' && typeof r === 'number') || (typeof l === 'string' && typeof r === 'string')) {
    switch (e.op) {
      case '>':
        return l > r;
      case '>=':
        return l >= r;
      case '<':
        return l < r;
      case '<=':
        return l <= r;
    }
  }
  if ((l === UNKNOWN || isOrderable(l)) && (r === UNKNOWN || isOrderable(r)) && (l === UNKNOWN || r === UNKNOWN)) return UNKNOWN;
  throw new ExpressionError(
    `cannot compare ${typeName(l)} with ${typeName(r)} using '${e.op}' in '${formatExpr(e)}'`,
    spanOf(e).start,
  );
}

function evaluatePredicate(e: Extract<Expr, { type: 'predicate' }>, lookup: Lookup): Value {
  const v = evaluate(e.operand, lookup);
  if (v === UNKNOWN) return UNKNOWN;
  if (e.name === 'detected' || e.name === 'found') return isTruthy(v);
  if (typeof v !== 'number') {
    throw new ExpressionError(`'${e.name}' needs a number (a trend slope), got ${typeName(v)} in '${formatExpr(e)}'`, spanOf(e).start);
  }
  return e.name === 'increasing' ? v > 0 : v < 0;
}

/**
 * Evaluates an expression. UNKNOWN (no data) propagates: arithmetic and comparisons with it give
 * UNKNOWN; `and`/`or`/`not` follow three-valued logic (false wins `and`, true wins `or`).
 * `and`, `or` and `if ... else` evaluate only the operands they need, as in Python.
 *
 * @throws UnknownVariableError when `lookup` returns undefined for a name.
 * @throws ExpressionError for arithmetic on text or booleans, division by zero, or ordering values of different types.
 */
export function evaluate(expr: Expr, lookup: Lookup): Value {
  switch (expr.type) {
    case 'number':
    case 'string':
    case 'constant':
      return expr.value;
    case 'variable': {
      const v = lookup(expr.name);
      if (v === undefined) throw new UnknownVariableError(expr.name);
      return v;
    }
    case 'arithmetic':
      return evaluateArithmetic(expr, lookup);
    case 'compare':
      return evaluateCompare(expr, lookup);
    case 'is': {
      const l = evaluate(expr.left, lookup);
      const r = evaluate(expr.right, lookup);
      if (l === UNKNOWN || r === UNKNOWN) return UNKNOWN;
      return (l === r) !== expr.negated;
    }
    case 'and': {
      const l = truth(evaluate(expr.left, lookup));
      if (l === false) return false;
      const r = truth(evaluate(expr.right, lookup));
      if (r === false) return false;
      return l === UNKNOWN || r === UNKNOWN ? UNKNOWN : true;
    }
    case 'or': {
      const l = truth(evaluate(expr.left, lookup));
      if (l === true) return true;
      const r = truth(evaluate(expr.right, lookup));
      if (r === true) return true;
      return l === UNKNOWN || r === UNKNOWN ? UNKNOWN : false;
    }
    case 'not': {
      const v = truth(evaluate(expr.operand, lookup));
      return v === UNKNOWN ? UNKNOWN : !v;
    }
    case 'conditional': {
      const test = truth(evaluate(expr.test, lookup));
      if (test === UNKNOWN) return UNKNOWN;
      return evaluate(test ? expr.then : expr.otherwise, lookup);
    }
    case 'predicate':
      return evaluatePredicate(expr, lookup);
  }
}

/**
 * Evaluates a condition's expression to exactly true, false or UNKNOWN. The timing clause is not
 * evaluated here: the state machine waits, then asks again.
 */
export function evaluateCondition(cond: Condition, lookup: Lookup): boolean | typeof UNKNOWN {
  return truth(evaluate(cond.expr, lookup));
}

/**
 * Renders a template. A template that is exactly one `{{ expr }}` gives the raw value (a number
 * stays a number, UNKNOWN stays UNKNOWN); otherwise the parts are joined as text with
 * {@link formatValue}.
 *
 * @example renderTemplate(parseTemplate('{{current_limit * 1.5}}'), () => 2000) // 3000
 */
export function renderTemplate(t: Template, lookup: Lookup): Value {
  const only = t.parts.length === 1 ? t.parts[0] : undefined;
  if (only !== undefined && typeof only !== 'string') return evaluate(only.expr, lookup);
  return t.parts.map((p) => (typeof p === 'string' ? p : formatValue(evaluate(p.expr, lookup)))).join('');
}

/** `a × x + b` over one variable x, or why an expression is not of that form. */
export type Affine = { readonly a: number; readonly b: number } | { readonly reason: string };

/**
 * An expression as `a × variable + b` (constants and the one variable, with + - * and division by
 * a constant), or why it cannot be: the compiler bounds scaling expressions with it.
 * @example affineIn(parseExpression('current_max * 2'), 'current_max') // { a: 2, b: 0 }
 */
export function affineIn(expr: Expr, variable: string): Affine {
  switch (expr.type) {
    case 'number':
      return { a: 0, b: expr.value };
    case 'variable':
      return expr.name === variable ? { a: 1, b: 0 } : { reason: `it uses "${expr.name}", whose value is not known before the step runs` };
    case 'arithmetic': {
      const l = affineIn(expr.left, variable);
      if ('reason' in l) return l;
      const r = affineIn(expr.right, variable);
      if ('reason' in r) return r;
      switch (expr.op) {
        case '+':
          return { a: l.a + r.a, b: l.b + r.b };
        case '-':
          return { a: l.a - r.a, b: l.b - r.b };
        case '*':
          if (l.a !== 0 && r.a !== 0) return { reason: `${variable} × ${variable} is not a scaling` };
          return { a: l.a * r.b + r.a * l.b, b: l.b * r.b };
        case '/':
          if (r.a !== 0) return { reason: `division by ${variable}` };
          if (r.b === 0) return { reason: 'division by zero' };
          return { a: l.a / r.b, b: l.b / r.b };
      }
      return { reason: 'unknown operator' };
    }
    default:
      return { reason: `${expr.type} expressions cannot be bounded` };
  }
}

/**
 * The range of `(a × x + b) / x` for x ≥ 1: what an affine expression does to the value it scales.
 * @example factorRange({ a: 2, b: 0 }) // { min: 2, max: 2 }
 */
export function factorRange(f: { readonly a: number; readonly b: number }): { min: number; max: number } {
  // a + b/x is monotone in x: from a + b (x = 1) towards a (x → ∞).
  return { min: Math.min(f.a, f.a + f.b), max: Math.max(f.a, f.a + f.b) };
}
