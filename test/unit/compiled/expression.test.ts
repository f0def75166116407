/** Unit tests of the playbook expression language: parsing the design document's strings, three-valued evaluation, templates and error positions. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExpressionError, UnknownVariableError } from '../../../lib/playbook/errors';
import {
  evaluate,
  evaluateCondition,
  formatCondition,
  formatExpr,
  formatValue,
  isTemplate,
  parseCondition,
  parseExpression,
  parseTemplate,
  renderTemplate,
  UNKNOWN,
  variablesOf,
  type Expr,
  type Lookup,
  type Value,
} from '../../../lib/compiled/expression';

/** Every condition string of the design document. */
const SEED_CONDITIONS = [
  'latency_p99 still > 200ms after 3min',
  'latency_p99 still > 500ms after 5min',
  'gc_pause_duration > 100ms',
  'recent_deploy detected and confidence > 0.7',
  'matching_engine_latency_p99 > 100ms for 5min',
  'identified_leaking_service is not None',
  'connections still > 0.9 * max after step 1',
  'redis_memory_usage still > 85% after cleanup',
  'consumers_healthy and lag_increasing',
  'consumer_has_errors',
  'expiring_certs found',
];

/** Every parameter expression of the design document. */
const SEED_PARAMETERS = ['current_max * 2', 'current * 2', 'current * 1.5'];

/** Every template of the design document. */
const SEED_TEMPLATES = [
  '{{current_qps}}',
  '{{current_p99}}',
  '{{current_limit * 1.5}}',
  '{{HIGH if days < 7 else MEDIUM}}',
  '{{leaking_service}}',
  '{{deployment}}',
  '{{service}}',
  '{{heap_dump_path}}',
  '{{cert_name}}',
  '{{days_remaining}}',
  '{{consumer_deployment}}',
  '证书即将到期: {{cert_name}} ({{days_remaining}} 天)',
  'spec.template.spec.containers[0].resources.limits.memory: "{{current_limit * 1.5}}"',
];

/** A lookup over fixed values; names not in `values` do not exist. */
function lookupFrom(values: Record<string, Value>): Lookup {
  return (name) => (Object.hasOwn(values, name) ? values[name] : undefined);
}

/** The ExpressionError `fn` throws; fails the test if it throws nothing or something else. */
function expressionErrorOf(fn: () => unknown): ExpressionError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ExpressionError) return e;
    throw e;
  }
  throw new Error('expected an ExpressionError, but nothing was thrown');
}

const v = (name: string, offset: number): Expr => ({ type: 'variable', name, offset });
const n = (value: number, text: string, dimension: 'time' | 'ratio' | 'none' = 'none'): Expr => ({
  type: 'number',
  value,
  dimension,
  text,
});

describe('expression language', () => {
  describe('Function: parseExpression', () => {
    it.each(SEED_PARAMETERS)('parses the seed parameter %s', (source) => {
      // Act
      const expr = parseExpression(source);

      // Assess
      expect(expr.type).toBe('arithmetic');
      expect(formatExpr(expr)).toBe(source);
    });

    it('parses current_max * 2 into a multiplication of a variable by a plain number', () => {
      expect(parseExpression('current_max * 2')).toEqual({
        type: 'arithmetic',
        op: '*',
        left: v('current_max', 0),
        right: n(2, '2'),
      });
    });

    it.each([
      ['200ms', 0.2, 'time'],
      ['100ms', 0.1, 'time'],
      ['10s', 10, 'time'],
      ['3min', 180, 'time'],
      ['5m', 300, 'time'],
      ['2h', 7200, 'time'],
      ['7d', 604800, 'time'],
      ['30d', 2592000, 'time'],
      ['85%', 0.85, 'ratio'],
      ['0.7', 0.7, 'none'],
      ['1.5', 1.5, 'none'],
    ] as const)('normalises the literal %s to %d (%s) and keeps its text', (text, value, dimension) => {
      expect(parseExpression(text)).toEqual({ type: 'number', value, dimension, text });
    });

    it('folds a minus sign into a literal and writes it as 0 - x before anything else', () => {
      expect(parseExpression('-5min')).toEqual(n(-300, '-5min', 'time'));
      expect(parseExpression('-x')).toEqual({ type: 'arithmetic', op: '-', left: n(0, '0'), right: v('x', 1) });
    });

    it.each([
      ['None', null],
      ['null', null],
      ['True', true],
      ['true', true],
      ['False', false],
      ['false', false],
    ])('reads %s as the constant %p', (source, value) => {
      expect(parseExpression(source)).toEqual({ type: 'constant', value });
    });

    it('reads ALL_CAPS words and quoted text as strings, with escapes', () => {
      expect(parseExpression('HIGH')).toEqual({ type: 'string', value: 'HIGH' });
      expect(parseExpression('P1_URGENT')).toEqual({ type: 'string', value: 'P1_URGENT' });
      expect(parseExpression(`'it\\'s'`)).toEqual({ type: 'string', value: "it's" });
      expect(parseExpression('"a\\"b\\n"')).toEqual({ type: 'string', value: 'a"b\n' });
      expect(parseExpression('High')).toEqual(v('High', 0));
    });

    it('binds * tighter than + and comparison tighter than and, and than or', () => {
      expect(parseExpression('a + b * c')).toEqual({
        type: 'arithmetic',
        op: '+',
        left: v('a', 0),
        right: { type: 'arithmetic', op: '*', left: v('b', 4), right: v('c', 8) },
      });
      expect(parseExpression('not a > 1 and b or c')).toEqual({
        type: 'or',
        left: {
          type: 'and',
          left: { type: 'not', operand: { type: 'compare', op: '>', left: v('a', 4), right: n(1, '1'), still: false } },
          right: v('b', 14),
        },
        right: v('c', 19),
      });
    });

    it('parses a Python conditional with the else branch nesting to the right', () => {
      expect(parseExpression('A if x else B if y else C')).toEqual({
        type: 'conditional',
        test: v('x', 5),
        then: { type: 'string', value: 'A' },
        otherwise: { type: 'conditional', test: v('y', 17), then: { type: 'string', value: 'B' }, otherwise: { type: 'string', value: 'C' } },
      });
    });

    it('allows a variable to meet a literal of any unit', () => {
      expect(() => parseExpression('latency + 200ms > 85%')).not.toThrow();
    });

    it('accepts whitespace, including newlines, between tokens and none around operators', () => {
      expect(formatExpr(parseExpression('current*\n  2'))).toBe('current * 2');
    });
  });

  describe('Function: parseCondition', () => {
    it.each(SEED_CONDITIONS)('parses the seed condition %s and formats it back unchanged', (source) => {
      // Act
      const cond = parseCondition(source);

      // Assess
      expect(cond.source).toBe(source);
      expect(formatCondition(cond)).toBe(source);
    });

    it('reads latency_p99 still > 200ms after 3min as a still-comparison in seconds with an after timing', () => {
      expect(parseCondition('latency_p99 still > 200ms after 3min')).toEqual({
        source: 'latency_p99 still > 200ms after 3min',
        expr: { type: 'compare', op: '>', left: v('latency_p99', 0), right: n(0.2, '200ms', 'time'), still: true },
        timing: { kind: 'after', seconds: 180, text: 'after 3min' },
        still: true,
      });
    });

    it('reads recent_deploy detected and confidence > 0.7 as a predicate and a comparison', () => {
      expect(parseCondition('recent_deploy detected and confidence > 0.7').expr).toEqual({
        type: 'and',
        left: { type: 'predicate', name: 'detected', operand: v('recent_deploy', 0) },
        right: { type: 'compare', op: '>', left: v('confidence', 27), right: n(0.7, '0.7'), still: false },
      });
    });

    it('reads a for-window in seconds', () => {
      const cond = parseCondition('matching_engine_latency_p99 > 100ms for 5min');
      expect(cond.expr).toEqual({
        type: 'compare',
        op: '>',
        left: v('matching_engine_latency_p99', 0),
        right: n(0.1, '100ms', 'time'),
        still: false,
      });
      expect(cond.timing).toEqual({ kind: 'for', seconds: 300, text: 'for 5min' });
      expect(cond.still).toBe(false);
    });

    it('reads identified_leaking_service is not None as a negated is', () => {
      expect(parseCondition('identified_leaking_service is not None').expr).toEqual({
        type: 'is',
        negated: true,
        left: v('identified_leaking_service', 0),
        right: { type: 'constant', value: null },
      });
    });

    it('reads after step 1 as a 1-based step number and keeps arithmetic on the right', () => {
      expect(parseCondition('connections still > 0.9 * max after step 1')).toEqual({
        source: 'connections still > 0.9 * max after step 1',
        expr: {
          type: 'compare',
          op: '>',
          left: v('connections', 0),
          right: { type: 'arithmetic', op: '*', left: n(0.9, '0.9'), right: v('max', 26) },
          still: true,
        },
        timing: { kind: 'after_step', step: 1, text: 'after step 1' },
        still: true,
      });
    });

    it('reads after cleanup as a named step and 85% as a ratio', () => {
      const cond = parseCondition('redis_memory_usage still > 85% after cleanup');
      expect(cond.expr).toEqual({
        type: 'compare',
        op: '>',
        left: v('redis_memory_usage', 0),
        right: n(0.85, '85%', 'ratio'),
        still: true,
      });
      expect(cond.timing).toEqual({ kind: 'after_step', step: 'cleanup', text: 'after cleanup' });
    });

    it.each([
      ['consumers_healthy and lag_increasing', { type: 'and', left: v('consumers_healthy', 0), right: v('lag_increasing', 22) }],
      ['consumer_has_errors', v('consumer_has_errors', 0)],
      ['expiring_certs found', { type: 'predicate', name: 'found', operand: v('expiring_certs', 0) }],
      ['gc_pause_duration > 100ms', { type: 'compare', op: '>', left: v('gc_pause_duration', 0), right: n(0.1, '100ms', 'time'), still: false }],
    ])('reads %s without a timing', (source, expr) => {
      // Act
      const cond = parseCondition(source);

      // Assess
      expect(cond.expr).toEqual(expr);
      expect(cond.timing).toBeUndefined();
      expect(cond.still).toBe(false);
    });

    it('sets still when any comparison inside uses it', () => {
      expect(parseCondition('a > 1 or (b still < 2 and c)').still).toBe(true);
      expect(parseCondition('a > 1 or (b < 2 and c)').still).toBe(false);
    });

    it('normalises the whitespace of the timing clause text', () => {
      expect(parseCondition('x  >  1   after\n 3min').timing?.text).toBe('after 3min');
      expect(parseCondition('x > 1 after step cleanup').timing).toEqual({ kind: 'after_step', step: 'cleanup', text: 'after step cleanup' });
    });
  });

  describe('Function: parseTemplate', () => {
    it.each(SEED_TEMPLATES)('parses the seed template %s', (source) => {
      // Act
      const t = parseTemplate(source);

      // Assess
      expect(t.source).toBe(source);
      expect(t.parts.map((p) => (typeof p === 'string' ? p : `{{${p.source}}}`)).join('')).toBe(source);
    });

    it('keeps Chinese text literally and points each part at its expression text', () => {
      // Prepare
      const source = '证书即将到期: {{cert_name}} ({{days_remaining}} 天)';

      // Act
      const t = parseTemplate(source);

      // Assess
      expect(t.parts).toEqual([
        '证书即将到期: ',
        { expr: v('cert_name', 10), source: 'cert_name', offset: 10 },
        ' (',
        { expr: v('days_remaining', 25), source: 'days_remaining', offset: 25 },
        ' 天)',
      ]);
      for (const p of t.parts) if (typeof p !== 'string') expect(source.slice(p.offset, p.offset + p.source.length)).toBe(p.source);
    });

    it('trims whitespace inside the braces and keeps multi-line text around them', () => {
      // Prepare
      const source = 'line one\n  limit: {{  current_limit * 1.5\n }}\nend';

      // Act
      const t = parseTemplate(source);

      // Assess
      expect(t.parts).toHaveLength(3);
      expect(t.parts[0]).toBe('line one\n  limit: ');
      expect(t.parts[1]).toMatchObject({ source: 'current_limit * 1.5', offset: source.indexOf('current_limit') });
      expect(t.parts[2]).toBe('\nend');
    });

    it('gives text without braces as one literal part, and empty text as none', () => {
      expect(parseTemplate('plain text }} here').parts).toEqual(['plain text }} here']);
      expect(parseTemplate('').parts).toEqual([]);
    });
  });

  describe('Function: isTemplate', () => {
    it.each([
      ['{{service}}', true],
      ['restart {{deployment}} now', true],
      ['current_max * 2', false],
      ['KILL {id}', false],
    ])('says %s is a template: %p', (source, expected) => {
      expect(isTemplate(source)).toBe(expected);
    });
  });

  describe('Function: variablesOf', () => {
    it('lists distinct names in order of first appearance', () => {
      expect(variablesOf(parseExpression('b * a + b / c'))).toEqual(['b', 'a', 'c']);
    });

    it('follows source order in a conditional and skips string words', () => {
      expect(variablesOf(parseExpression('HIGH if days < limit else low'))).toEqual(['days', 'limit', 'low']);
    });

    it('reads a condition but not the step its timing names', () => {
      expect(variablesOf(parseCondition('redis_memory_usage still > 85% after cleanup'))).toEqual(['redis_memory_usage']);
      expect(variablesOf(parseCondition('connections still > 0.9 * max after step 1'))).toEqual(['connections', 'max']);
    });

    it('reads every part of a template', () => {
      expect(variablesOf(parseTemplate('证书即将到期: {{cert_name}} ({{days_remaining}} 天, {{cert_name}})'))).toEqual([
        'cert_name',
        'days_remaining',
      ]);
    });
  });

  describe('Function: evaluate', () => {
    it.each([
      ['current_max * 2', { current_max: 10 }, 20],
      ['current * 1.5', { current: 2000 }, 3000],
      ['a - b / 4', { a: 10, b: 8 }, 8],
      ['-x + 1', { x: 3 }, -2],
      ['(a + 1) * 2', { a: 2 }, 6],
    ])('computes %s with %j as %p', (source, values, expected) => {
      expect(evaluate(parseExpression(source), lookupFrom(values))).toBe(expected);
    });

    describe('three-valued logic', () => {
      const T = true;
      const F = false;
      const U: typeof UNKNOWN = UNKNOWN;

      it.each<[Value, Value, Value]>([
        [T, T, T],
        [T, F, F],
        [T, U, U],
        [F, T, F],
        [F, F, F],
        [F, U, F],
        [U, T, U],
        [U, F, F],
        [U, U, U],
      ])('%p and %p is %p', (a, b, expected) => {
        expect(evaluate(parseExpression('a and b'), lookupFrom({ a, b }))).toBe(expected);
      });

      it.each<[Value, Value, Value]>([
        [T, T, T],
        [T, F, T],
        [T, U, T],
        [F, T, T],
        [F, F, F],
        [F, U, U],
        [U, T, T],
        [U, F, U],
        [U, U, U],
      ])('%p or %p is %p', (a, b, expected) => {
        expect(evaluate(parseExpression('a or b'), lookupFrom({ a, b }))).toBe(expected);
      });

      it.each<[Value, Value]>([
        [T, F],
        [F, T],
        [U, U],
      ])('not %p is %p', (a, expected) => {
        expect(evaluate(parseExpression('not a'), lookupFrom({ a }))).toBe(expected);
      });
    });

    it.each([
      'x + 1',
      'x * 0',
      'x > 1',
      'x == 1',
      'x != 1',
      'x is None',
      'x is not None',
      'x detected',
      'x increasing',
      'A if x else B',
      'A if x > 1 else B',
    ])('gives UNKNOWN for %s when x has no data', (source) => {
      expect(evaluate(parseExpression(source), lookupFrom({ x: UNKNOWN }))).toBe(UNKNOWN);
    });

    it.each([
      [true, true],
      [false, false],
      [null, false],
      [0, false],
      [3, true],
      [-1, true],
      ['', false],
      ['svc-a', true],
      [[], false],
      [['cert-a'], true],
      [{}, false],
      [{ a: 1 }, true],
    ])('says %p detected / found is %p', (value, expected) => {
      expect(evaluate(parseExpression('x detected'), lookupFrom({ x: value }))).toBe(expected);
      expect(evaluate(parseExpression('x found'), lookupFrom({ x: value }))).toBe(expected);
    });

    it.each([
      [0.5, true, false],
      [0, false, false],
      [-2, false, true],
    ])('reads a slope of %p as increasing %p and decreasing %p', (slope, increasing, decreasing) => {
      expect(evaluate(parseExpression('lag increasing'), lookupFrom({ lag: slope }))).toBe(increasing);
      expect(evaluate(parseExpression('lag decreasing'), lookupFrom({ lag: slope }))).toBe(decreasing);
    });

    it('tests is None against null, not against empty text', () => {
      expect(evaluate(parseExpression('x is None'), lookupFrom({ x: null }))).toBe(true);
      expect(evaluate(parseExpression('x is not None'), lookupFrom({ x: 'payments' }))).toBe(true);
      expect(evaluate(parseExpression('x is None'), lookupFrom({ x: '' }))).toBe(false);
    });

    it('compares text with == and lists by content', () => {
      expect(evaluate(parseExpression("env == 'prod'"), lookupFrom({ env: 'prod' }))).toBe(true);
      expect(evaluate(parseExpression('tier != GOLD'), lookupFrom({ tier: 'GOLD' }))).toBe(false);
      expect(evaluate(parseExpression('a == b'), lookupFrom({ a: ['x', { y: 1 }], b: ['x', { y: 1 }] }))).toBe(true);
      expect(evaluate(parseExpression('a == b'), lookupFrom({ a: ['x'], b: ['x', 'y'] }))).toBe(false);
    });

    it('throws UnknownVariableError naming a variable the lookup does not know', () => {
      // Act
      const error = (() => {
        try {
          evaluate(parseExpression('current_max * 2'), lookupFrom({}));
        } catch (e) {
          return e;
        }
        return undefined;
      })();

      // Assess
      expect(error).toBeInstanceOf(UnknownVariableError);
      expect((error as UnknownVariableError).variable).toBe('current_max');
    });

    it('does not look at the right of and/or when the left decides, as in Python', () => {
      expect(evaluate(parseExpression('x is not None and x > 3'), lookupFrom({ x: null }))).toBe(false);
      expect(evaluate(parseExpression('ok or missing'), lookupFrom({ ok: true }))).toBe(true);
    });

    it.each([
      ['x * 2', { x: 'abc' }, "cannot apply '*' to string and number"],
      ['x + 1', { x: true }, "cannot apply '+' to boolean and number"],
      ['1 - x', { x: null }, "cannot apply '-' to number and None"],
      ['x / y', { x: 1, y: 0 }, 'division by zero'],
      ['x > 3', { x: 'high' }, "cannot compare string with number using '>'"],
      ['x increasing', { x: 'up' }, "'increasing' needs a number"],
    ])('rejects %s with %j: %s', (source, values, fragment) => {
      const error = expressionErrorOf(() => evaluate(parseExpression(source), lookupFrom(values)));
      expect(error.message).toContain(fragment);
    });
  });

  describe('Function: evaluateCondition', () => {
    it.each<[Value, Value]>([
      [3, true],
      [0, false],
      ['boom', true],
      [[], false],
      [UNKNOWN, UNKNOWN],
    ])('turns a bare variable of %p into exactly %p', (value, expected) => {
      expect(evaluateCondition(parseCondition('consumer_has_errors'), lookupFrom({ consumer_has_errors: value }))).toBe(expected);
    });

    it.each<[string, Record<string, Value>, Value]>([
      ['latency_p99 still > 200ms after 3min', { latency_p99: 0.25 }, true],
      ['latency_p99 still > 200ms after 3min', { latency_p99: 0.15 }, false],
      ['latency_p99 still > 200ms after 3min', { latency_p99: UNKNOWN }, UNKNOWN],
      ['connections still > 0.9 * max after step 1', { connections: 95, max: 100 }, true],
      ['redis_memory_usage still > 85% after cleanup', { redis_memory_usage: 0.8 }, false],
      ['matching_engine_latency_p99 > 100ms for 5min', { matching_engine_latency_p99: 0.12 }, true],
      ['recent_deploy detected and confidence > 0.7', { recent_deploy: true, confidence: 0.9 }, true],
      ['recent_deploy detected and confidence > 0.7', { recent_deploy: false, confidence: UNKNOWN }, false],
      ['identified_leaking_service is not None', { identified_leaking_service: null }, false],
      ['consumers_healthy and lag_increasing', { consumers_healthy: true, lag_increasing: UNKNOWN }, UNKNOWN],
      ['expiring_certs found', { expiring_certs: ['api.example.com'] }, true],
      ['expiring_certs found', { expiring_certs: [] }, false],
    ])('evaluates %s with %j to %p, ignoring the timing', (source, values, expected) => {
      expect(evaluateCondition(parseCondition(source), lookupFrom(values))).toBe(expected);
    });
  });

  describe('Function: renderTemplate', () => {
    it('fills Chinese text around the parts', () => {
      // Prepare
      const t = parseTemplate('证书即将到期: {{cert_name}} ({{days_remaining}} 天)');

      // Act
      const text = renderTemplate(t, lookupFrom({ cert_name: 'api.example.com', days_remaining: 3 }));

      // Assess
      expect(text).toBe('证书即将到期: api.example.com (3 天)');
    });

    it.each(['{{current_limit * 1.5}}', '{{ current_limit * 1.5 }}'])('returns the raw number for the single expression %s', (source) => {
      expect(renderTemplate(parseTemplate(source), lookupFrom({ current_limit: 2000 }))).toBe(3000);
    });

    it('renders a number inside text without trailing zeros', () => {
      // Prepare
      const t = parseTemplate('spec.template.spec.containers[0].resources.limits.memory: "{{current_limit * 1.5}}"');

      // Act
      const text = renderTemplate(t, lookupFrom({ current_limit: 2000 }));

      // Assess
      expect(text).toBe('spec.template.spec.containers[0].resources.limits.memory: "3000"');
    });

    it.each([
      [3, 'HIGH'],
      [20, 'MEDIUM'],
      [7, 'MEDIUM'],
    ])('renders {{HIGH if days < 7 else MEDIUM}} for days %p as %s', (days, expected) => {
      expect(renderTemplate(parseTemplate('{{HIGH if days < 7 else MEDIUM}}'), lookupFrom({ days }))).toBe(expected);
    });

    it.each<[Value, string]>([
      [3000, '3000'],
      [1.5, '1.5'],
      [0.85, '0.85'],
      [1 / 3, '0.333333'],
      [0.1 + 0.2, '0.3'],
      [null, 'None'],
      [true, 'True'],
      [UNKNOWN, 'unknown'],
      [['a', 'b'], '["a","b"]'],
    ])('writes %p inside text as %s', (value, expected) => {
      expect(renderTemplate(parseTemplate('v={{x}}'), lookupFrom({ x: value }))).toBe(`v=${expected}`);
      expect(formatValue(value)).toBe(expected);
    });

    it('returns UNKNOWN itself for a single expression with no data', () => {
      expect(renderTemplate(parseTemplate('{{current_qps}}'), lookupFrom({ current_qps: UNKNOWN }))).toBe(UNKNOWN);
    });

    it('throws UnknownVariableError for a variable the lookup does not know', () => {
      expect(() => renderTemplate(parseTemplate('restart {{deployment}}'), lookupFrom({}))).toThrow(UnknownVariableError);
    });
  });

  describe('Function: formatExpr', () => {
    it.each([
      ['latency_p99>200ms', 'latency_p99 > 200ms'],
      ['(a + b) * c', '(a + b) * c'],
      ['a - (b - c)', 'a - (b - c)'],
      ['((a * b)) + c', 'a * b + c'],
      ['not (a and b) or c', 'not (a and b) or c'],
      ['(a or b) and c', '(a or b) and c'],
      ["'payments api' == name", '"payments api" == name'],
      ['(A if x else B) if y else C', '(A if x else B) if y else C'],
      ['x is not None', 'x is not None'],
      ['(a > b) == True', '(a > b) == True'],
    ])('writes %s as %s', (source, expected) => {
      expect(formatExpr(parseExpression(source))).toBe(expected);
    });

    it.each([...SEED_PARAMETERS, 'a / (b * c)', '-x * 2', 'x detected or not y increasing', 'HIGH if days < 7 else MEDIUM'])(
      'gives text that parses back to the same form: %s',
      (source) => {
        // Prepare
        const once = formatExpr(parseExpression(source));

        // Act
        const twice = formatExpr(parseExpression(once));

        // Assess
        expect(twice).toBe(once);
      },
    );
  });

  describe('Function: formatCondition', () => {
    it('writes the canonical expression followed by the timing clause', () => {
      expect(formatCondition(parseCondition('latency_p99  still>200ms   after 3min'))).toBe('latency_p99 still > 200ms after 3min');
      expect(formatCondition(parseCondition('consumer_has_errors'))).toBe('consumer_has_errors');
    });
  });

  describe('malformed input', () => {
    type Kind = 'expression' | 'condition' | 'template';
    const parse: Record<Kind, (s: string) => unknown> = {
      expression: parseExpression,
      condition: parseCondition,
      template: parseTemplate,
    };

    it.each<[Kind, string, string, number]>([
      ['condition', 'latency_p99 > ', "expected a value after '>'", 14],
      ['condition', 'latency_p99 >> 3', "after '>' but found '>'", 13],
      ['condition', 'x after', "expected a duration or 'step N' after 'after'", 7],
      ['condition', 'x > 1 after 3min and y', 'must come at the very end', 17],
      ['condition', 'x > 1 after 3min for 5min', 'only one timing clause', 17],
      ['condition', 'x > 1 after 0min', 'duration must be positive', 12],
      ['condition', 'x > 1 after -5min', 'duration must be positive', 12],
      ['condition', 'x for step 2', "'for' needs a duration", 6],
      ['condition', 'x after step 0', 'step number must be a whole number from 1', 13],
      ['condition', 'x after 5', "'5' has no unit", 8],
      ['condition', '(x > 3 after 3min)', "expected ')'", 7],
      ['condition', 'a < b < c', 'comparisons do not chain', 6],
      ['condition', 'x detected > 3', 'comparisons do not chain', 11],
      ['condition', '200ms > 85%', 'cannot compare a time (200ms) and a ratio (85%)', 6],
      ['expression', '1min + 5%', 'cannot add a time (1min) and a ratio (5%)', 5],
      ['condition', 'x > 5mins', "unknown unit 'mins'", 5],
      ['condition', 'x > 200 ms', "write the unit right after the number: '200ms'", 8],
      ['condition', 'x = 3', "use '=='", 2],
      ['condition', 'x & y', "use 'and'", 2],
      ['condition', 'x > 3 y', "unexpected 'y'", 6],
      ['condition', 'x still', "expected a comparison operator ('>', '>=', '<', '<=', '==', '!=') after 'still'", 7],
      ['condition', '(x > 3', "expected ')' to close the '(' at offset 0", 6],
      ['condition', 'x > 3)', "unmatched ')'", 5],
      ['condition', "name == 'abc", 'unterminated string', 8],
      ['condition', 'and x', "expected a value but found 'and'", 0],
      ['condition', 'current * 2', "'current * 2' is a number", 0],
      ['expression', 'HIGH if x', "expected 'else'", 9],
      ['expression', 'x > 3 after 3min', 'may only end a condition', 6],
      ['template', 'restart {{ deployment', "unclosed '{{'", 8],
      ['template', 'a {{ }} b', "empty '{{ }}'", 2],
      ['template', '证书: {{ cert_name > }}', "expected a value after '>'", 18],
      ['template', 'x {{ 名 }}', "unexpected character '名'", 5],
    ])('rejects the %s %j: %s at offset %d', (kind, source, fragment, offset) => {
      // Act
      const error = expressionErrorOf(() => parse[kind](source));

      // Assess
      expect(error.message).toContain(fragment);
      expect(error.offset).toBe(offset);
    });
  });

  describe('module source', () => {
    it('never runs text as JavaScript', () => {
      // Prepare
      const source = readFileSync(join(__dirname, '../../../lib/compiled/expression.ts'), 'utf8');

      // Assess
      expect(source).not.toMatch(/\beval\s*\(/);
      expect(source).not.toMatch(/new\s+Function\b/);
      expect(source).not.toMatch(/\bFunction\s*\(/);
    });
  });
});
