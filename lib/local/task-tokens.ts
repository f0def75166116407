/**
 * Task tokens for the local engine's `.waitForTaskToken` Tasks: a fresh token per task (the
 * library's `$$.Task.Token` is one static value per execution), a promise the Task awaits, and
 * SendTaskSuccess / SendTaskFailure that settle it — with AWS's errors for unknown tokens.
 */
import { randomBytes } from 'node:crypto';

export class TaskTokenError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'TaskDoesNotExist';
  }
}

/** The error a SendTaskFailure delivers to the waiting Task; `name` is what Catch matches. */
export class TaskFailure extends Error {
  public constructor(error: string, cause: string) {
    super(cause);
    this.name = error;
  }
}

interface Pending {
  resolve(output: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
  /** The execution waiting on it. */
  owner?: string;
}

export class TaskTokens {
  private readonly pending = new Map<string, Pending>();

  /** Issues a token whose promise settles on success/failure, or frees itself after `timeoutMs`. */
  public issue(timeoutMs: number, owner?: string): { token: string; result: Promise<unknown> } {
    // Like AWS's, not URL-safe: it must never travel in a link (approval links carry an id).
    const token = randomBytes(96).toString('base64');
    const result = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => this.pending.delete(token), timeoutMs);
      timer.unref();
      this.pending.set(token, { resolve, reject, timer, ...(owner ? { owner } : {}) });
    });
    result.catch(() => undefined);
    return { token, result };
  }

  public succeed(token: string, output: unknown): void {
    this.take(token).resolve(output);
  }

  public fail(token: string, error: string, cause: string): void {
    this.take(token).reject(new TaskFailure(error, cause));
  }

  /**
   * Fails every pending token (the engine is stopping and has aborted their executions). The
   * waiting Task then settles, so aws-local-stepfunctions clears its Task timer: otherwise a
   * real-time approval window kept the process alive for up to its length (10 minutes) after stop.
   */
  public failAll(error: string, cause: string): void {
    for (const token of [...this.pending.keys()]) this.fail(token, error, cause);
  }

  /** Fails the pending tokens of one execution (it was stopped). */
  public failOwned(owner: string, error: string, cause: string): void {
    for (const [token, p] of [...this.pending.entries()]) if (p.owner === owner) this.fail(token, error, cause);
  }

  public get size(): number {
    return this.pending.size;
  }

  private take(token: string): Pending {
    const p = this.pending.get(token);
    if (!p) throw new TaskTokenError('Task does not exist anymore (unknown, already used, or timed out)');
    this.pending.delete(token);
    clearTimeout(p.timer);
    return p;
  }
}
