/**
 * Errors of the sandbox API server, each carrying the metav1.Status the real API server answers
 * with (k8s.io/apimachinery/pkg/api/errors: NewNotFound, NewConflict, NewInvalid, NewBadRequest...),
 * so kubectl prints "Error from server (NotFound): deployments.apps \"x\" not found" as it would.
 */

export interface StatusCause {
  readonly reason?: string;
  readonly message?: string;
  readonly field?: string;
}

/** The `Status` object of a failed request. */
export interface KubeStatus {
  readonly kind: 'Status';
  readonly apiVersion: 'v1';
  readonly metadata: Record<string, never>;
  readonly status: 'Failure';
  readonly message: string;
  readonly reason: string;
  readonly details?: { name?: string; group?: string; kind?: string; causes?: StatusCause[]; retryAfterSeconds?: number };
  readonly code: number;
}

/** A request the sandbox refuses, as the API server would. */
export class SandboxApiError extends Error {
  public readonly code: number;
  public readonly reason: string;
  public readonly details?: KubeStatus['details'];
  public constructor(code: number, reason: string, message: string, details?: KubeStatus['details']) {
    super(message);
    this.name = 'SandboxApiError';
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  public toStatus(): KubeStatus {
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, ...(this.details ? { details: this.details } : {}), code: this.code };
  }
}

/** `group` of a resource as the API server writes it in messages: `deployments.apps`, `pods`. */
function qualified(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource;
}

export function notFound(resource: string, group: string, name: string): SandboxApiError {
  return new SandboxApiError(404, 'NotFound', `${qualified(resource, group)} "${name}" not found`, { name, ...(group ? { group } : {}), kind: resource });
}

export function alreadyExists(resource: string, group: string, name: string): SandboxApiError {
  return new SandboxApiError(409, 'AlreadyExists', `${qualified(resource, group)} "${name}" already exists`, { name, ...(group ? { group } : {}), kind: resource });
}

/** The optimistic-concurrency failure: the request carried a resourceVersion that is no longer current. */
export function conflict(resource: string, group: string, name: string): SandboxApiError {
  return new SandboxApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(resource, group)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, ...(group ? { group } : {}), kind: resource },
  );
}

/** One field error of an Invalid response (field.Error: "spec.replicas: Invalid value: -1: must be ..."). */
export interface FieldError {
  readonly field: string;
  /** FieldValueInvalid, FieldValueRequired, FieldValueNotSupported, FieldValueForbidden, FieldValueDuplicate. */
  readonly type: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueNotSupported' | 'FieldValueForbidden' | 'FieldValueDuplicate';
  readonly value?: unknown;
  readonly detail: string;
}

function describe(e: FieldError): string {
  const value = e.value === undefined ? '' : typeof e.value === 'string' ? `"${e.value}"` : JSON.stringify(e.value);
  switch (e.type) {
    case 'FieldValueRequired':
      return `Required value${e.detail ? `: ${e.detail}` : ''}`;
    case 'FieldValueForbidden':
      return `Forbidden: ${e.detail}`;
    case 'FieldValueDuplicate':
      return `Duplicate value: ${value}`;
    case 'FieldValueNotSupported':
      return `Unsupported value: ${value}${e.detail ? `: ${e.detail}` : ''}`;
    default:
      return `Invalid value: ${value}: ${e.detail}`;
  }
}

/** errors.NewInvalid: `Deployment.apps "x" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0`. */
export function invalid(kind: string, group: string, name: string, errors: readonly FieldError[]): SandboxApiError {
  const causes = errors.map((e) => ({ reason: e.type, message: describe(e), field: e.field }));
  const list = errors.map((e) => `${e.field}: ${describe(e)}`);
  const joined = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
  return new SandboxApiError(422, 'Invalid', `${group ? `${kind}.${group}` : kind} "${name}" is invalid: ${joined}`, { name, ...(group ? { group } : {}), kind, causes });
}

export function badRequest(message: string): SandboxApiError {
  return new SandboxApiError(400, 'BadRequest', message);
}

/**
 * A JSON patch whose operations cannot apply. The API server answers
 * errors.NewGenericServerResponse(422, ..., err.Error(), 0, false) (apiserver handlers/patch.go),
 * which keeps the generic message and drops the patch library's: kubectl prints "The request is
 * invalid: the server rejected our request due to an error in our request". `detail` is for the
 * sandbox's own log only.
 */
export function unprocessable(detail: string): SandboxApiError {
  const e = new SandboxApiError(422, 'Invalid', 'the server rejected our request due to an error in our request', {});
  return Object.assign(e, { detail });
}

export function methodNotAllowed(): SandboxApiError {
  return new SandboxApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
}

export function unauthorized(): SandboxApiError {
  return new SandboxApiError(401, 'Unauthorized', 'Unauthorized');
}

export function gone(message: string): SandboxApiError {
  return new SandboxApiError(410, 'Expired', message);
}

export function unsupportedMediaType(type: string): SandboxApiError {
  return new SandboxApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got ${type})`);
}

/** A drill or test waited for the sandbox's controllers longer than it allowed. */
export class SandboxTimeoutError extends Error {
  public readonly timeoutMs: number;
  public constructor(timeoutMs: number) {
    super(`sandbox: condition not reached in ${timeoutMs} ms`);
    this.name = 'SandboxTimeoutError';
    this.timeoutMs = timeoutMs;
  }
}
