/** How a Step Functions error output reads on the timeline: the error name and its cause, each said once. */
import { errorSummary } from '../../../lib/runtime/core';

describe('errorSummary', () => {
  it.each([
    // The local engine repeats the name as the cause of a timeout; AWS leaves the cause empty.
    [{ Error: 'States.Timeout', Cause: 'States.Timeout' }, 'States.Timeout: no answer within the time allowed'],
    [{ Error: 'States.Timeout' }, 'States.Timeout: no answer within the time allowed'],
    [{ Error: 'States.Timeout', Cause: 'Task timed out after 600 seconds' }, 'States.Timeout: Task timed out after 600 seconds'],
    [{ Error: 'TargetNotConfiguredError', Cause: JSON.stringify({ errorType: 'TargetNotConfiguredError', errorMessage: 'no ElastiCache target' }) }, 'TargetNotConfiguredError: no ElastiCache target'],
    [{ Error: 'PolicyViolationError', Cause: 'PolicyViolationError' }, 'PolicyViolationError'],
    [{ Cause: 'plain text' }, 'Error: plain text'],
    [null, 'no error details'],
  ])('%j reads "%s"', (error, text) => {
    expect(errorSummary(error)).toBe(text);
  });
});
