/** lib/policy/step.ts's helpers the rules share: what counts as a template, and the strings of a value. */
import { isTemplated, stringsOf } from '../../../lib/policy/step';

describe('isTemplated', () => {
  it('holds for a string with {{ only', () => {
    expect(isTemplated('{{current_max * 2}}')).toBe(true);
    expect(isTemplated('prefix-{{svc}}')).toBe(true);
    expect(isTemplated('matching-engine')).toBe(false);
  });

  it('does not take a list or a number for a template', () => {
    // A list holding "{{" is not itself a template: the rules read its members one by one (stringsOf).
    expect(isTemplated(['{{'])).toBe(false);
    expect(isTemplated(42)).toBe(false);
    expect(isTemplated(undefined)).toBe(false);
  });
});

describe('stringsOf', () => {
  it('reads a string, or the strings of a list', () => {
    expect(stringsOf('a')).toEqual(['a']);
    expect(stringsOf(['a', 2, 'b'])).toEqual(['a', 'b']);
    expect(stringsOf(undefined)).toEqual([]);
  });
});
