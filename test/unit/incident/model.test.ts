/** Unit tests of the incident model: the status transition table, severities, ids' day, MTTD/MTTI/MTTR. No network. */
import {
  ALLOWED_TRANSITIONS,
  FINAL_STATUSES,
  INCIDENT_STATUSES,
  InvalidTransitionError,
  canTransition,
  incidentDay,
  incidentMetrics,
  isFinalStatus,
  severityAtLeast,
  statusesLeadingTo,
  toIso,
  type IncidentStatus,
} from '../../../lib/incident';

/** The table as the design states it, written out pair by pair. */
const EXPECTED: Record<IncidentStatus, IncidentStatus[]> = {
  OPEN: ['MITIGATING', 'RESOLVED', 'ESCALATED', 'FAILED'],
  MITIGATING: ['AWAITING_APPROVAL', 'RESOLVED', 'ESCALATED', 'FAILED'],
  AWAITING_APPROVAL: ['MITIGATING', 'RESOLVED', 'ESCALATED', 'FAILED'],
  ESCALATED: ['RESOLVED', 'FAILED'],
  RESOLVED: [],
  FAILED: [],
};

const pairs = INCIDENT_STATUSES.flatMap((from) => INCIDENT_STATUSES.map((to) => [from, to, EXPECTED[from].includes(to)] as const));

describe('Incident model', () => {
  describe('Transition table', () => {
    it.each(pairs)('%s → %s allowed: %s', (from, to, allowed) => {
      expect(canTransition(from, to)).toBe(allowed);
    });

    it('lets no status move to itself', () => {
      for (const s of INCIDENT_STATUSES) expect(canTransition(s, s)).toBe(false);
    });

    it('lets the agent loop MITIGATING ⇄ AWAITING_APPROVAL but not skip from OPEN to AWAITING_APPROVAL', () => {
      expect(canTransition('MITIGATING', 'AWAITING_APPROVAL')).toBe(true);
      expect(canTransition('AWAITING_APPROVAL', 'MITIGATING')).toBe(true);
      expect(canTransition('OPEN', 'AWAITING_APPROVAL')).toBe(false);
    });

    it('lets every non-final status end or escalate', () => {
      for (const from of INCIDENT_STATUSES.filter((s) => !isFinalStatus(s))) {
        expect(canTransition(from, 'RESOLVED')).toBe(true);
        expect(canTransition(from, 'FAILED')).toBe(true);
        if (from !== 'ESCALATED') expect(canTransition(from, 'ESCALATED')).toBe(true);
      }
    });

    it('treats RESOLVED and FAILED as final, and ESCALATED as not final', () => {
      expect([...FINAL_STATUSES].sort()).toEqual(['FAILED', 'RESOLVED']);
      for (const s of FINAL_STATUSES) expect(ALLOWED_TRANSITIONS[s]).toEqual([]);
      expect(isFinalStatus('ESCALATED')).toBe(false);
    });

    it('lists the statuses a conditional write must accept for each target', () => {
      expect(statusesLeadingTo('MITIGATING')).toEqual(['OPEN', 'AWAITING_APPROVAL']);
      expect(statusesLeadingTo('RESOLVED')).toEqual(['OPEN', 'MITIGATING', 'AWAITING_APPROVAL', 'ESCALATED']);
      expect(statusesLeadingTo('OPEN')).toEqual([]);
    });
  });

  describe('InvalidTransitionError', () => {
    it('names the incident, both statuses and what is allowed instead', () => {
      const err = new InvalidTransitionError('INC-20260209-001', 'RESOLVED', 'MITIGATING');

      expect(err.name).toBe('InvalidTransitionError');
      expect(err.message).toBe('incident INC-20260209-001 cannot move from RESOLVED to MITIGATING: allowed from RESOLVED: none (final status)');
      expect(new InvalidTransitionError('INC-20260209-002', 'OPEN', 'AWAITING_APPROVAL').message).toContain(
        'allowed from OPEN: MITIGATING, RESOLVED, ESCALATED, FAILED',
      );
    });
  });

  describe('Function: severityAtLeast', () => {
    it.each([
      ['CRITICAL', true],
      ['HIGH', true],
      ['MEDIUM', false],
      ['LOW', false],
    ] as const)('%s is at least HIGH: %s', (severity, expected) => {
      expect(severityAtLeast(severity, 'HIGH')).toBe(expected);
    });
  });

  describe('Function: incidentDay', () => {
    it('takes the UTC day, whatever the offset of the input', () => {
      expect(incidentDay('2026-02-09T23:30:00-05:00')).toBe('20260210');
      expect(incidentDay(new Date('2026-02-09T00:00:00Z'))).toBe('20260209');
    });

    it('refuses an invalid time', () => {
      expect(() => toIso('not a time')).toThrow(RangeError);
    });
  });

  describe('Function: incidentMetrics', () => {
    it('computes MTTD from the anomaly start, MTTI and MTTR from detection (seed §5.1)', () => {
      const timestamps = {
        anomalyStartedAt: '2026-02-09T14:00:00.000Z',
        detectedAt: '2026-02-09T14:15:00.000Z',
        investigatedAt: '2026-02-09T14:16:00.000Z',
        mitigatedAt: '2026-02-09T14:25:00.000Z',
        resolvedAt: '2026-02-09T14:38:00.000Z',
      };

      expect(incidentMetrics({ timestamps })).toEqual({ mttdSeconds: 900, mttiSeconds: 60, mttrSeconds: 1380 });
    });

    it('leaves a metric undefined while its timestamp is missing', () => {
      const metrics = incidentMetrics({ timestamps: { anomalyStartedAt: '2026-02-09T14:00:00Z', detectedAt: '2026-02-09T14:00:30Z' } });

      expect(metrics).toEqual({ mttdSeconds: 30, mttiSeconds: undefined, mttrSeconds: undefined });
    });
  });
});
