/** Errors of the incident store: each names the incident (or open-incident key) at fault. */
import { ALLOWED_TRANSITIONS, type IncidentStatus } from './model';

/** Base class for every incident store failure. */
export class IncidentError extends Error {
  /** The incident id at fault, when there is one. */
  public readonly incidentId?: string;
  public constructor(message: string, options?: { incidentId?: string; cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.name = 'IncidentError';
    this.incidentId = options?.incidentId;
  }
}

/** No incident item with this id. */
export class IncidentNotFoundError extends IncidentError {
  public constructor(incidentId: string, options?: { cause?: unknown }) {
    super(`incident ${incidentId} not found`, { incidentId, cause: options?.cause });
    this.name = 'IncidentNotFoundError';
  }
}

/** The status change is not in the transition table (or the incident moved on meanwhile). */
export class InvalidTransitionError extends IncidentError {
  public readonly from: IncidentStatus;
  public readonly to: IncidentStatus;
  public constructor(incidentId: string, from: IncidentStatus, to: IncidentStatus, options?: { cause?: unknown }) {
    super(
      `incident ${incidentId} cannot move from ${from} to ${to}: allowed from ${from}: ${allowedText(from)}`,
      { incidentId, cause: options?.cause },
    );
    this.name = 'InvalidTransitionError';
    this.from = from;
    this.to = to;
  }
}

/**
 * A conditional write kept losing to concurrent writers (or a half-written open-incident key
 * could not be repaired) within the retry budget. Safe to retry the whole call.
 */
export class IncidentContentionError extends IncidentError {
  public constructor(message: string, options?: { incidentId?: string; cause?: unknown }) {
    super(message, options);
    this.name = 'IncidentContentionError';
  }
}

function allowedText(from: IncidentStatus): string {
  const next = ALLOWED_TRANSITIONS[from];
  return next.length === 0 ? 'none (final status)' : next.join(', ');
}
