/**
 * API failures as the action errors the state machines match on, each naming its target as
 * `namespace/name`: 404 → TargetNotFoundError, 400/422 → InvalidParameterError with the server's
 * message, 401/403 → TargetAccessDeniedError, 429/5xx and network errors → TransientTargetError
 * (the machine retries). A 409 Conflict is the adapter's to retry, so it is recognised apart.
 */
import { ActionError, InvalidParameterError, TargetAccessDeniedError, TargetNotFoundError, TransientTargetError } from '../actions/errors';
import type { KubeRef } from '../actions/ports';

interface StatusBody {
  readonly message?: string;
  readonly reason?: string;
  readonly code?: number;
  readonly details?: { causes?: { message?: string; field?: string }[] };
}

/** The HTTP status of a client-node ApiException (or undefined for a network error). */
export function statusCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The Kubernetes Status the server answered with, when it did. */
export function statusBody(err: unknown): StatusBody | undefined {
  const body = (err as { body?: unknown })?.body;
  if (body && typeof body === 'object') return body as StatusBody;
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as StatusBody;
    } catch {
      return { message: body };
    }
  }
  return undefined;
}

export function isConflict(err: unknown): boolean {
  return statusCode(err) === 409 && statusBody(err)?.reason !== 'AlreadyExists';
}

/** `namespace/name`. */
export function refText(ref: KubeRef): string {
  return `${ref.namespace}/${ref.name}`;
}

/**
 * Maps a failed call on `what` (e.g. "deployment trading/trading-api") to a named action error.
 * Action errors pass through unchanged.
 */
export function kubeError(err: unknown, what: string, target: string): ActionError {
  if (err instanceof ActionError) return err;
  const code = statusCode(err);
  const status = statusBody(err);
  const message = status?.message ?? (err as Error)?.message ?? String(err);
  const options = { target, cause: err };
  if (code === undefined) return new TransientTargetError(`${what}: Kubernetes API unreachable: ${message}`, options);
  if (code === 404) return new TargetNotFoundError(`${what} not found: ${message}`, options);
  if (code === 400 || code === 422) {
    const causes = (status?.details?.causes ?? []).map((c) => `${c.field ? `${c.field}: ` : ''}${c.message ?? ''}`).filter(Boolean);
    return new InvalidParameterError(`${what}: the API server refused the change: ${message}${causes.length && !message.includes(causes[0] as string) ? ` (${causes.join('; ')})` : ''}`, options);
  }
  if (code === 401 || code === 403) return new TargetAccessDeniedError(`${what}: access denied (${code}): ${message}`, options);
  if (code === 409) return new TransientTargetError(`${what}: conflict: ${message}`, options);
  if (code === 429 || code >= 500) return new TransientTargetError(`${what}: the API server answered ${code}: ${message}`, options);
  return new ActionError(`${what}: the API server answered ${code}: ${message}`, options);
}
