/**
 * create_ticket on dynalite (tickets kept with the incident), Jira Cloud and a webhook (a local
 * HTTP server answering as they document): one ticket per incident and subject, one per
 * expiring certificate across daily runs, the seed's priority template, skipped outputs.
 */
import { action } from '../../lib/actions/create_ticket';
import { TicketDesk } from '../../lib/actions/tickets/desk';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { JiraTickets, jiraCredentials, WebhookTickets } from '../../lib/actions/tickets/http-backends';
import { defaultPolicy } from '../../lib/policy/files';
import { ticketsTarget } from '../../lib/runtime/targets/tickets';
import { createTables, startDynalite, type LocalDynamo, type Tables } from '../../lib/local/dynalite';
import { actionContext } from '../helpers/action-context';
import { startRecorder, type HttpRecorder } from '../helpers/http-recorder';

let dynamo: LocalDynamo;
let tables: Tables;
let count = 0;
let http: HttpRecorder;

beforeAll(async () => {
  dynamo = await startDynalite({ port: 0 });
  http = await startRecorder();
});
afterAll(async () => {
  await http.close();
  await dynamo.stop();
});
beforeEach(async () => {
  count += 1;
  tables = { incidents: `ticket-incidents-${count}`, breakers: `ticket-breakers-${count}` };
  await createTables(dynamo.client, tables);
  http.requests.length = 0;
});

const renewal = { title: '证书即将到期: {{cert_name}} ({{days_remaining}} 天)', priority: '{{HIGH if days < 7 else MEDIUM}}', assignee: 'infra-team' };
const certs = [
  { name: 'api.exchange.test', source: 'external_domains', notAfter: '2026-02-14T00:00:00Z', days_remaining: 5, level: 'CRITICAL' },
  { name: 'trading/ws-tls', source: 'kubernetes_secrets', notAfter: '2026-03-01T00:00:00Z', days_remaining: 20, level: 'WARNING' },
];

function desk(backend?: ConstructorParameters<typeof TicketDesk>[0]['backend']) {
  return new TicketDesk({ doc: dynamo.doc, table: tables.incidents, backend, now: () => new Date('2026-02-09T01:00:00Z') });
}

describe('create_ticket (tickets kept with the incident)', () => {
  it('opens one ticket per expiring certificate with the seed\'s priority template', async () => {
    // prepare
    const tickets = desk();

    // act
    const result = await action.run(renewal, actionContext({ targets: { tickets }, vars: { expiring_certs: certs }, incidentId: 'INC-20260209-001' }));

    // assess
    const listed = await tickets.list();
    expect(listed.map((t) => [t.title, t.priority, t.assignee, t.status])).toEqual(expect.arrayContaining([
      ['证书即将到期: api.exchange.test (5 天)', 'HIGH', 'infra-team', 'OPEN'],
      ['证书即将到期: trading/ws-tls (20 天)', 'MEDIUM', 'infra-team', 'OPEN'],
    ]));
    expect(result.outputs?.ticket_ids).toHaveLength(2);
  });

  it('never opens a second ticket for a certificate that has one open (the next day\'s run)', async () => {
    const tickets = desk();
    await action.run(renewal, actionContext({ targets: { tickets }, vars: { expiring_certs: certs }, incidentId: 'INC-20260209-001' }));

    const nextDay = await action.run(renewal, actionContext({ targets: { tickets }, vars: { expiring_certs: [{ ...certs[0], days_remaining: 4 }] }, incidentId: 'INC-20260210-001' }));

    expect(await tickets.list()).toHaveLength(2);
    expect(nextDay.summary).toMatch(/^already open: TKT-/);
  });

  it('opens a new one after the first was closed', async () => {
    const tickets = desk();
    const later = new TicketDesk({ doc: dynamo.doc, table: tables.incidents, now: () => new Date('2026-03-01T01:00:00Z') });
    const first = await action.run(renewal, actionContext({ targets: { tickets }, vars: { expiring_certs: [certs[0]] } }));
    await tickets.close(first.outputs?.ticket_id as string);

    const again = await action.run(renewal, actionContext({ targets: { tickets: later }, vars: { expiring_certs: [certs[0]] }, incidentId: 'INC-20260301-001' }));

    expect(again.summary).toMatch(/^ticket TKT-/);
    expect(again.outputs?.ticket_id).not.toBe(first.outputs?.ticket_id);
  });

  it('opens one ticket per incident and subject (a retried step does not duplicate it)', async () => {
    const tickets = desk();
    const followUp = { title: 'trading-api OOMKilled - 需要排查内存泄漏', priority: 'HIGH', description: '堆转储已保存: (unavailable)' };

    await action.run(followUp, actionContext({ targets: { tickets } }));
    const retry = await action.run(followUp, actionContext({ targets: { tickets } }));

    expect(await tickets.list('INC-20260209-001')).toHaveLength(1);
    expect(retry.outputs?.ticket_id).toMatch(/^TKT-/);
  });

  it('refuses a priority outside LOW..CRITICAL before opening anything', async () => {
    const tickets = desk();

    await expect(action.run({ title: 't', priority: 'P1' }, actionContext({ targets: { tickets } }))).rejects.toMatchObject({ name: 'InvalidParameterError', message: expect.stringContaining('priority resolved to "P1"') });
    expect(await tickets.list()).toEqual([]);
  });

  it('fails without a ticket target instead of pretending', async () => {
    await expect(action.run({ title: 't', priority: 'LOW' }, actionContext())).rejects.toMatchObject({ name: 'TargetNotConfiguredError' });
  });
});

describe('create_ticket on Jira Cloud', () => {
  const jira = () => new JiraTickets({ baseUrl: http.url, projectKey: 'OPS', email: 'agent@exchange.test', apiToken: 'token' });

  it('creates an issue with the mapped priority and labels, and checks it is still open before skipping a duplicate', async () => {
    // prepare: Jira's create-issue answer, then the issue still in progress
    http.respond((req) => (req.method === 'POST' ? { status: 201, body: { id: '10001', key: 'OPS-7', self: `${http.url}/rest/api/3/issue/10001` } } : { status: 200, body: { key: 'OPS-7', fields: { status: { name: 'In Progress', statusCategory: { key: 'indeterminate' } } } } }));
    const tickets = desk(jira());

    // act
    const first = await action.run(renewal, actionContext({ targets: { tickets }, vars: { expiring_certs: [certs[0]] } }));
    const second = await action.run(renewal, actionContext({ targets: { tickets }, vars: { expiring_certs: [certs[0]] }, incidentId: 'INC-20260210-001' }));

    // assess
    const create = http.to('/rest/api/3/issue')[0]!;
    expect(create.headers.authorization).toBe(`Basic ${Buffer.from('agent@exchange.test:token').toString('base64')}`);
    expect(create.json).toMatchObject({ fields: { project: { key: 'OPS' }, issuetype: { name: 'Task' }, summary: '证书即将到期: api.exchange.test (5 天)', priority: { name: 'High' }, labels: ['sre-agent', 'INC-20260209-001', 'team-infra-team'] } });
    expect(first.outputs).toMatchObject({ ticket_id: 'OPS-7', ticket_url: `${http.url}/browse/OPS-7` });
    expect(http.to('/rest/api/3/issue/OPS-7')).toHaveLength(1);
    expect(second.summary).toContain('already open: OPS-7');
  });

  it('releases its claim when Jira fails, so the retry opens the ticket', async () => {
    http.respond(() => ({ status: 503, body: 'unavailable' }));
    const tickets = desk(jira());

    await expect(action.run(renewal, actionContext({ targets: { tickets }, vars: { expiring_certs: [certs[0]] } }))).rejects.toMatchObject({ name: 'TransientTargetError' });
    http.respond(() => ({ status: 201, body: { id: '10002', key: 'OPS-8' } }));
    const retried = await action.run(renewal, actionContext({ targets: { tickets }, vars: { expiring_certs: [certs[0]] } }));

    expect(retried.outputs?.ticket_id).toBe('OPS-8');
  });
});

describe('create_ticket on a webhook', () => {
  it('POSTs the ticket as JSON and takes the id from the answer', async () => {
    http.respond(() => ({ status: 200, body: { id: 4711, url: 'https://tickets.exchange.test/4711' } }));
    const tickets = desk(new WebhookTickets({ url: `${http.url}/tickets` }));

    const result = await action.run({ title: 'trading-api OOMKilled', priority: 'HIGH', description: 'heap dump: (unavailable)' }, actionContext({ targets: { tickets } }));

    expect(http.to('/tickets')[0]!.json).toEqual({ title: 'trading-api OOMKilled', priority: 'HIGH', description: 'heap dump: (unavailable)', assignee: null, incident_id: 'INC-20260209-001', dedupe_key: 'INC-20260209-001|trading-api OOMKilled' });
    expect(result.outputs).toMatchObject({ ticket_id: '4711', ticket_url: 'https://tickets.exchange.test/4711' });
  });
});

describe('Jira credentials', () => {
  it('a missing secret fails the wiring naming the secret, and nothing is sent', async () => {
    // prepare: the action function's environment names Jira; the secret was never created
    const sm = mockClient(SecretsManagerClient);
    sm.on(GetSecretValueCommand).rejects(new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} }));
    const env = { INCIDENTS_TABLE: 'i', BREAKERS_TABLE: 'b', APPROVALS_TABLE: 'a', DEDUPE_TABLE: 'd', TOPIC_ARN: 'arn:aws:sns:eu-west-1:111122223333:t', SECRETS_PREFIX: 'exchange/', POWERTOOLS_SERVICE_NAME: 'sre-agent', JIRA_BASE_URL: http.url, JIRA_PROJECT: 'OPS' };
    const sent = http.requests.length;
    try {
      // act / assess
      await expect(ticketsTarget({ env, policy: defaultPolicy(), wired: {} })).rejects.toMatchObject({ name: 'TargetNotConfiguredError', target: 'exchange/jira', message: expect.stringContaining('the secret exchange/jira is missing') });
      expect(http.requests.length).toBe(sent);
    } finally {
      sm.restore();
    }
  });

  it.each([
    ['not JSON', 'email=a', 'is not JSON'],
    ['without apiToken', '{"email":"agent@exchange.test"}', 'has no apiToken'],
    ['with neither field', '{}', 'has no email and no apiToken'],
  ])('refuses a secret %s, naming it', (_what, raw, message) => {
    expect(() => jiraCredentials(raw, 'sre-agent/jira')).toThrow(expect.objectContaining({ name: 'TargetNotConfiguredError', target: 'sre-agent/jira', message: expect.stringContaining(message) }));
  });

  it('never builds a client that would send Basic undefined:undefined', () => {
    expect(() => new JiraTickets({ baseUrl: http.url, projectKey: 'OPS', email: undefined as unknown as string, apiToken: 'token' })).toThrow(expect.objectContaining({ name: 'TargetNotConfiguredError', message: expect.stringContaining('has no email') }));
  });
});
