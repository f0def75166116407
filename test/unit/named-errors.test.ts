/**
 * Every throw is a named error carrying what is at fault (issue 12): no bare `throw new Error(` is
 * left in bin/, lib/ or lambdas/, and the user-facing ones say, in their message and a field,
 * which schedule, variable, secret, option, playbook or state it is.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { resolvePlaybook } from '../../bin/cli';
import { OnCallError } from '../../lib/approval/errors';
import { parsePagerDutyRoles } from '../../lib/approval/oncall';
import { parseAgentConfig } from '../../lib/infra/agent-config';
import { StackConfigError } from '../../lib/infra/errors';
import { PlaybookNotFoundError, ScheduleError } from '../../lib/local/errors';
import { nextRun } from '../../lib/local/schedules';
import { SecretError } from '../../lib/notify/errors';
import { readSecret } from '../../lib/notify/secrets';
import { StateGraphError } from '../../lib/playbook/errors';
import { walkPath } from '../../lib/playbook/graph';
import { awsBreakerConfig, awsData } from '../../lib/runtime/aws';
import { EnvironmentError } from '../../lib/runtime/errors';

const ROOT = path.resolve(__dirname, '../..');

/** What a call throws (it must throw). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Assertion('expected a throw');
}

async function rejected(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Assertion('expected a rejection');
    },
    (err: unknown) => err as Error,
  );
}

class Assertion extends Error {}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : /\.(ts|js)$/.test(f) ? [p] : [];
  });
}

describe('named errors', () => {
  it('no bare `throw new Error(` is left in bin/, lib/ or lambdas/ (the dashboard page script, which runs in the browser, aside)', () => {
    // act
    const bare = ['bin', 'lib', 'lambdas']
      .flatMap((d) => sources(path.join(ROOT, d)))
      .filter((f) => !f.endsWith('lib/local/dashboard-client.js'))
      .flatMap((f) => readFileSync(f, 'utf8').split('\n').map((line, i) => ({ where: `${path.relative(ROOT, f)}:${i + 1}`, line })))
      .filter(({ line }) => line.includes('throw new Error('))
      .map(({ where }) => where);
    // assess
    expect(bare).toEqual([]);
  });

  it('a schedule the local engine cannot run names the expression', () => {
    const err = thrown(() => nextRun('cron(0 12 ? * MON-FRI *)', new Date('2026-01-05T00:00:00Z')));
    expect(err).toBeInstanceOf(ScheduleError);
    expect((err as ScheduleError).expression).toBe('cron(0 12 ? * MON-FRI *)');
    expect(err.message).toBe('schedule "cron(0 12 ? * MON-FRI *)": only rate(...) and numeric cron(min hour dom month dow year) run locally');
  });

  it('a bad PagerDuty role mapping names the variable holding it', () => {
    const err = thrown(() => parsePagerDutyRoles('{oncall_sre', 'PAGERDUTY_ONCALL_ROLES'));
    expect(err).toBeInstanceOf(OnCallError);
    expect((err as OnCallError).source).toBe('PAGERDUTY_ONCALL_ROLES');
    expect(err.message).toMatch(/^PAGERDUTY_ONCALL_ROLES is not JSON/);
  });

  it('a secret that cannot be read names the secret', async () => {
    const noReader = await rejected(readSecret({ secretId: 'sre-agent/slack-webhook-url' }, undefined));
    expect(noReader).toBeInstanceOf(SecretError);
    expect((noReader as SecretError).secretId).toBe('sre-agent/slack-webhook-url');
    const notJson = await rejected(readSecret({ secretId: 'sre-agent/rds', jsonKey: 'password' }, async () => 'plain text'));
    expect(notJson).toBeInstanceOf(SecretError);
    expect(notJson.message).toBe('secret sre-agent/rds is not JSON (expected key "password")');
  });

  it("a Lambda's incomplete environment names every variable at fault", () => {
    const err = thrown(() => awsData({ INCIDENTS_TABLE: 'inc' }));
    expect(err).toBeInstanceOf(EnvironmentError);
    expect((err as EnvironmentError).variables).toEqual(expect.arrayContaining(['BREAKERS_TABLE', 'APPROVALS_TABLE', 'TOPIC_ARN']));
    expect((err as EnvironmentError).variables).not.toContain('INCIDENTS_TABLE');
    const breakers = thrown(() => awsBreakerConfig({ BREAKER_CONFIG: '{"coolDownSeconds":' }));
    expect(breakers).toBeInstanceOf(EnvironmentError);
    expect((breakers as EnvironmentError).variables).toEqual(['BREAKER_CONFIG']);
    expect(breakers.message).toMatch(/^environment variable BREAKER_CONFIG: /);
  });

  it('a bad cdk.json configuration names the context key', () => {
    const err = thrown(() => parseAgentConfig({ notAField: 1 }));
    expect(err).toBeInstanceOf(StackConfigError);
    expect((err as StackConfigError).subject).toBe('sre-agent:config');
    expect(err.message).toContain('cdk.json context "sre-agent:config" is invalid');
  });

  it('an unknown playbook argument names it', () => {
    const err = thrown(() => resolvePlaybook('no-such-playbook'));
    expect(err).toBeInstanceOf(PlaybookNotFoundError);
    expect((err as PlaybookNotFoundError).playbook).toBe('no-such-playbook');
    expect(err.message).toMatch(/^no playbook "no-such-playbook": not a file, and not a name in /);
  });

  it('a state graph that points nowhere names the state', () => {
    const err = thrown(() => walkPath({ StartAt: 'Missing', States: {} } as never, 'full'));
    expect(err).toBeInstanceOf(StateGraphError);
    expect((err as StateGraphError).state).toBe('Missing');
  });
});
