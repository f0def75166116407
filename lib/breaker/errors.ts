/** Errors of the circuit breakers: each names the breaker (`GLOBAL` or `SERVICE#<name>`) at fault. */

/** Base class for every breaker failure. */
export class BreakerError extends Error {
  /** The breaker at fault: `GLOBAL` or `SERVICE#<name>`. */
  public readonly breaker?: string;
  public constructor(message: string, options?: { breaker?: string; cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.name = 'BreakerError';
    this.breaker = options?.breaker;
  }
}

/**
 * A conditional write kept losing to concurrent writers within the retry budget. Nothing was
 * recorded by this call; retrying it is safe. A caller that must decide now treats it as "not
 * allowed" (fail closed).
 */
export class BreakerContentionError extends BreakerError {
  public constructor(breaker: string, attempts: number, options?: { cause?: unknown }) {
    super(`breaker ${breaker}: ${attempts} conditional writes lost to concurrent writers; nothing recorded, retry the call`, { breaker, cause: options?.cause });
    this.name = 'BreakerContentionError';
  }
}

/** Breaker configuration that fails validation (e.g. from cdk.json context). */
export class InvalidBreakerConfigError extends BreakerError {
  public constructor(problems: string, options?: { cause?: unknown }) {
    super(`invalid circuit breaker configuration: ${problems}; fix the values or omit them to use the defaults`, options);
    this.name = 'InvalidBreakerConfigError';
  }
}

/** A reset named a service that has no breaker: it never counted a remediation attempt. Nothing was written. */
export class BreakerNotFoundError extends BreakerError {
  public readonly service: string;
  public constructor(service: string, known: readonly string[]) {
    super(`no breaker for service "${service}": it has never counted a remediation attempt, so there is nothing to reset (services with a breaker: ${known.length ? known.join(', ') : 'none'})`, { breaker: `SERVICE#${service}` });
    this.name = 'BreakerNotFoundError';
    this.service = service;
  }
}
