/** Unit tests of the incident severity an alarm gets: its playbook's risk, raised by what the alarm declares. No network. */
import { alarmIncidentSeverity, declaredSeverity } from '../../../lib/runtime/intake';

describe('declaredSeverity', () => {
  it.each([
    ['p99 above 100 ms for 5 min. severity=CRITICAL', 'CRITICAL'],
    ['Severity: high (order book)', 'HIGH'],
    ['severity = low', 'LOW'],
  ])('reads %j as %s', (description, severity) => {
    expect(declaredSeverity(description)).toEqual({ severity });
  });

  it.each([undefined, '', 'Goes into alarm when server CPU utilization is too high!', 'high severity'])('finds nothing in %j', (description) => {
    expect(declaredSeverity(description)).toEqual({});
  });

  it('names a word that is not a severity, and the ones that are', () => {
    expect(declaredSeverity('severity=P1')).toEqual({ problem: 'alarm description declares severity "P1"; expected one of LOW, MEDIUM, HIGH, CRITICAL' });
  });
});

describe('alarmIncidentSeverity', () => {
  it.each([
    ['LOW-MEDIUM', undefined, 'MEDIUM'],
    ['MEDIUM-HIGH', undefined, 'HIGH'],
    ['LOW-MEDIUM', 'CRITICAL', 'CRITICAL'],
    ['HIGH', 'LOW', 'HIGH'],
    ['HIGH', 'HIGH', 'HIGH'],
  ] as const)('risk %s with declared %s → %s', (risk, declared, expected) => {
    expect(alarmIncidentSeverity(risk, declared)).toBe(expected);
  });
});
