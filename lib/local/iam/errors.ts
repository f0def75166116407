/** Errors of the local IAM check: each names the function, the call or the template at fault. */

/** Base class of the IAM check's own failures (not a denial: see AccessDeniedError). */
export class IamCheckError extends Error {
  public constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IamCheckError';
  }
}

/** The template cannot be read as the sre-agent stack. */
export class IamTemplateError extends IamCheckError {
  public constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IamTemplateError';
  }
}

/** An AWS SDK call the check does not know how to authorize: add it to lib/local/iam/requests.ts. */
export class UnmappedCallError extends IamCheckError {
  public readonly call: string;
  public constructor(fn: string, call: string) {
    super(`function ${fn} made the AWS call ${call}, which the IAM check cannot map to an IAM action and resource: add it to lib/local/iam/requests.ts`);
    this.name = 'UnmappedCallError';
    this.call = call;
  }
}

/** A function id the synthesized stack does not have. */
export class UnknownFunctionError extends IamCheckError {
  public readonly function: string;
  public constructor(fn: string, known: readonly string[]) {
    super(`the synthesized stack has no function "${fn}" (it has ${known.join(', ')})`);
    this.name = 'UnknownFunctionError';
    this.function = fn;
  }
}

/**
 * What AWS answers a call its role does not allow. `name` is the service's error code
 * (AccessDeniedException for JSON services, AccessDenied / AuthorizationError for query ones), so
 * the code under test handles it as it would the real one.
 */
export class AccessDeniedError extends Error {
  public readonly $fault = 'client' as const;
  public readonly $metadata: { readonly httpStatusCode: number };
  public readonly function: string;
  public readonly action: string;
  public readonly resource: string;
  public constructor(options: { code: string; status: number; fn: string; roleName: string; action: string; resource: string; explicit: boolean; account: string; partition: string }) {
    const why = options.explicit ? 'with an explicit deny in an identity-based policy' : `because no identity-based policy allows the ${options.action} action`;
    super(`User: arn:${options.partition}:sts::${options.account}:assumed-role/${options.roleName}/${options.fn} is not authorized to perform: ${options.action} on resource: ${options.resource} ${why}`);
    this.name = options.code;
    this.$metadata = { httpStatusCode: options.status };
    this.function = options.fn;
    this.action = options.action;
    this.resource = options.resource;
  }
}
