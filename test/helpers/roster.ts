/**
 * An on-call roster for approval tests: who holds each role, changed by the test (a rotation, an
 * override ending, someone removed from the rotation file or PagerDuty) between a link's sending
 * and its use. Names are what the links carry (a Person's `name`).
 */
import type { OnCallLookup, Person } from '../../lib/approval/oncall';

export interface TestRoster extends OnCallLookup {
  /** Replaces the holders of `role` from now on (none: nobody holds it). */
  set(role: string, names: readonly string[]): void;
  /** Makes every lookup fail as PagerDuty's does when it cannot answer and nothing stands behind it. */
  fail(error: Error | undefined): void;
}

export function testRoster(holders: Readonly<Record<string, readonly string[]>>): TestRoster {
  const roles = new Map(Object.entries(holders).map(([role, names]) => [role, [...names]]));
  let failure: Error | undefined;
  return {
    async whoIs(role: string): Promise<Person[]> {
      if (failure) throw failure;
      return (roles.get(role) ?? []).map((name) => ({ name, source: 'rotation-file' }));
    },
    set(role, names) {
      roles.set(role, [...names]);
    },
    fail(error) {
      failure = error;
    },
  };
}
