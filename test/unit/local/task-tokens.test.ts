/** Unit tests of the local engine's task tokens (SendTaskSuccess / SendTaskFailure semantics). No network. */
import { TaskTokenError, TaskTokens } from '../../../lib/local/task-tokens';

describe('TaskTokens', () => {
  it('settles a token once: success delivers the output, a second call is TaskDoesNotExist', async () => {
    // prepare
    const tokens = new TaskTokens();
    const { token, result } = tokens.issue(60_000);
    // act
    tokens.succeed(token, { approved: true });
    // assess
    await expect(result).resolves.toEqual({ approved: true });
    expect(() => tokens.succeed(token, {})).toThrow(TaskTokenError);
    expect(tokens.size).toBe(0);
  });

  it('delivers a failure under the error name the Catch matches', async () => {
    const tokens = new TaskTokens();
    const { token, result } = tokens.issue(60_000);
    tokens.fail(token, 'ApprovalRejected', 'rejected by @john');
    await expect(result).rejects.toMatchObject({ name: 'ApprovalRejected', message: 'rejected by @john' });
  });

  it('failAll fails every pending token and forgets it (the engine is stopping)', async () => {
    // prepare
    const tokens = new TaskTokens();
    const issued = [tokens.issue(600_000), tokens.issue(600_000), tokens.issue(600_000)];
    tokens.succeed(issued[0]!.token, 'done');
    // act
    tokens.failAll('ExecutionAborted', 'the local engine stopped');
    // assess
    await expect(issued[0]!.result).resolves.toBe('done');
    for (const { result } of issued.slice(1)) await expect(result).rejects.toMatchObject({ name: 'ExecutionAborted' });
    expect(tokens.size).toBe(0);
    expect(() => tokens.fail(issued[1]!.token, 'X', 'y')).toThrow(TaskTokenError);
  });

  it('forgets a token after its timeout: a late decision is TaskDoesNotExist', async () => {
    const tokens = new TaskTokens();
    const { token } = tokens.issue(5);
    await new Promise((r) => setTimeout(r, 30));
    expect(tokens.size).toBe(0);
    expect(() => tokens.succeed(token, {})).toThrow('Task does not exist anymore');
  });
});
