/**
 * Notifiers and the PagerDuty on-call lookup against a real HTTP server on 127.0.0.1 standing in
 * for PagerDuty (Events API v2, REST /oncalls) and a Slack incoming webhook; SNS and Secrets
 * Manager through aws-sdk-client-mock. Payloads are checked field by field against the documented shapes.
 */
import * as path from 'node:path';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient, type PublishCommandInput } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { createNotifier, notifyOpsFor, type Notification, type NotifierConfig } from '../../lib/notify';
import { PagerDutyOnCall, type Person } from '../../lib/approval/oncall';
import { readSecret, secretsManagerReader } from '../../lib/notify/secrets';
import { awsNotifying } from '../../lib/runtime/aws';
import { startRecorder, type HttpRecorder } from '../helpers/http-recorder';
import { loadRotationFile } from '../../lib/approval/oncall-file';

const AT = new Date('2026-02-09T14:17:00.000Z');
const INCIDENT = 'INC-20260209-001';
const ROUTING_KEY = 'e93facc04764012d7bfb002500d5d1a6';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:sre-agent-approvals';
const SLACK_PATH = '/services/T0000/B0000/XXXXXXXX';
const ROTATION = loadRotationFile(path.resolve(__dirname, '../../playbooks/oncall.yaml'));

const JOHN: Person = { name: 'John Park', email: 'john.park@exchange.example', phone: '+12025550103', slack: 'U04JOHNPRK', pagerdutyUserId: 'PJOHN03' };
const CHEN: Person = { name: 'Chen Jie', email: 'chen.jie@exchange.example', slack: 'U04CHENJIE' };
const links = (who: string) => ({
  approveUrl: `https://approvals.example/approvals/a1?person=${who}&role=oncall_sre&decision=approve&sig=abc`,
  rejectUrl: `https://approvals.example/approvals/a1?person=${who}&role=oncall_sre&decision=reject&sig=def`,
});
const TITLE = 'Approval needed: rollback_deployment (kubectl_rollout_undo) on trading-api, risk MEDIUM — L2 (on-call SRE)';

const APPROVAL: Notification = {
  kind: 'approval_request',
  incidentId: INCIDENT,
  title: TITLE,
  message: 'API 延迟 350ms，部署 v2.3.1 后开始。建议回滚 <v2.3.0> & 观察',
  severity: 'error',
  channels: ['pagerduty', 'slack', 'email'],
  recipients: [
    { role: 'oncall_sre', person: JOHN, links: links('john') },
    { role: 'team_lead', person: CHEN },
  ],
  service: 'trading-api',
  playbook: 'traffic-surge',
  step: 'rollback_deployment',
  level: 2,
  risk: 'MEDIUM',
  details: { approval_id: 'a1', evidence: { check_recent_deploys: 'v2.3.1 deployed at 14:00', condition: '"api_latency_p99 > 200ms" is true' } },
  links: [{ href: `http://127.0.0.1:8080/incidents/${INCIDENT}`, text: 'Timeline' }],
  at: AT,
};

const sns = mockClient(SNSClient);
const secretsManager = mockClient(SecretsManagerClient);
let server: HttpRecorder;

function config(over: Partial<NotifierConfig> = {}): NotifierConfig {
  return {
    pagerduty: { routingKey: { value: ROUTING_KEY }, eventsUrl: server.url },
    slack: { webhookUrl: { value: `${server.url}${SLACK_PATH}` } },
    sns: { topicArn: TOPIC },
    retryDelayMs: 10,
    ...over,
  };
}

const published = () => sns.commandCalls(PublishCommand).map((c) => c.args[0].input as PublishCommandInput);

beforeEach(async () => {
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'msg-1' });
  secretsManager.reset();
  server = await startRecorder();
});

afterEach(async () => {
  await server.close();
});

describe('createNotifier', () => {
  describe('channel: pagerduty (Events API v2)', () => {
    it('POSTs a trigger to /v2/enqueue with the documented fields and the incident id as dedup key', async () => {
      // act
      const outcomes = await createNotifier(config(), { sns: new SNSClient({ region: 'us-east-1' }) }).send({ ...APPROVAL, channels: ['pagerduty'] });
      // assess
      expect(outcomes).toEqual([{ channel: 'pagerduty', ok: true, detail: 'trigger accepted (HTTP 202)', person: 'John Park, Chen Jie', dedupKey: INCIDENT, action: 'trigger' }]);
      const [req] = server.to('/v2/enqueue');
      expect(req.method).toBe('POST');
      expect(req.headers['content-type']).toBe('application/json');
      expect(req.json).toEqual({
        routing_key: ROUTING_KEY,
        event_action: 'trigger',
        dedup_key: INCIDENT,
        client: 'sre-agent',
        payload: {
          summary: `${INCIDENT}: ${TITLE}`,
          source: 'sre-agent',
          severity: 'error',
          timestamp: '2026-02-09T14:17:00.000Z',
          component: 'trading-api',
          group: 'traffic-surge',
          class: 'approval_request',
          custom_details: {
            incident: INCIDENT,
            step: 'rollback_deployment',
            level: 2,
            risk: 'MEDIUM',
            message: APPROVAL.message,
            recipients: ['John Park (oncall_sre)', 'Chen Jie (team_lead)'],
            approval_id: 'a1',
            evidence: APPROVAL.details!.evidence,
          },
        },
        links: [{ href: `http://127.0.0.1:8080/incidents/${INCIDENT}`, text: 'Timeline' }],
      });
      // Personal approval links never go to PagerDuty, whose alert everyone on the service sees.
      expect(req.body).not.toContain('decision=approve');
    });

    it.each(['acknowledge', 'resolve'] as const)('sends %s with only routing_key, event_action and the same dedup_key', async (action) => {
      // act
      const outcomes = await createNotifier(config()).send({ ...APPROVAL, channels: ['pagerduty'], action });
      // assess
      expect(outcomes[0]).toMatchObject({ ok: true, action, dedupKey: INCIDENT });
      expect(server.to('/v2/enqueue')[0].json).toEqual({ routing_key: ROUTING_KEY, event_action: action, dedup_key: INCIDENT });
    });

    it('keeps payload.summary within 1024 characters', async () => {
      await createNotifier(config()).send({ ...APPROVAL, channels: ['pagerduty'], title: 'x'.repeat(2000) });
      const summary = (server.to('/v2/enqueue')[0].json as { payload: { summary: string } }).payload.summary;
      expect(summary).toHaveLength(1024);
      expect(summary.endsWith('…')).toBe(true);
    });

    it('retries once on 5xx (PagerDuty asks senders to) and succeeds', async () => {
      // prepare
      let calls = 0;
      server.respond(() => (++calls === 1 ? { status: 500, body: { status: 'error', message: 'internal' } } : { status: 202, body: { status: 'success', message: 'Event processed' } }));
      // act
      const outcomes = await createNotifier(config()).send({ ...APPROVAL, channels: ['pagerduty'] });
      // assess
      expect(server.to('/v2/enqueue')).toHaveLength(2);
      expect(outcomes[0]).toMatchObject({ ok: true, detail: 'trigger accepted (HTTP 202)' });
    });

    it('does not retry a 400 (invalid event) and reports PagerDuty\'s answer', async () => {
      // prepare
      server.respond(() => ({ status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors: ["Length of 'routing_key' is incorrect (should be 32 characters)"] } }));
      // act
      const outcomes = await createNotifier(config()).send({ ...APPROVAL, channels: ['pagerduty'] });
      // assess
      expect(server.to('/v2/enqueue')).toHaveLength(1);
      expect(outcomes[0].ok).toBe(false);
      expect(outcomes[0].detail).toMatch(/^trigger failed: HTTP 400: .*routing_key/);
    });
  });

  describe('channel: phone', () => {
    it('pages PagerDuty with severity critical (high urgency) under its own dedup key per level', async () => {
      // act
      const outcomes = await createNotifier(config()).send({ ...APPROVAL, kind: 'approval_escalated', channels: ['phone'], level: 3, severity: 'error' });
      // assess
      const body = server.to('/v2/enqueue')[0].json as { dedup_key: string; payload: { severity: string } };
      expect(body.payload.severity).toBe('critical');
      expect(body.dedup_key).toBe(`${INCIDENT}/phone/L3`);
      expect(outcomes[0]).toMatchObject({ channel: 'phone', ok: true, dedupKey: `${INCIDENT}/phone/L3` });
    });
  });

  describe('channel: slack (incoming webhook)', () => {
    it('posts text and blocks: header, the facts as fields, the message, and no personal approval links (the channel is shared)', async () => {
      // act
      const outcomes = await createNotifier(config()).send({ ...APPROVAL, channels: ['slack'] });
      // assess
      expect(outcomes).toEqual([{ channel: 'slack', ok: true, detail: 'posted (HTTP 200)', person: 'John Park, Chen Jie' }]);
      const [req] = server.to(SLACK_PATH);
      expect(req.method).toBe('POST');
      expect(JSON.stringify(req.json)).not.toContain('sig=');
      expect(req.json).toEqual({
        text: `${INCIDENT}: ${TITLE}`,
        blocks: [
          { type: 'header', text: { type: 'plain_text', text: TITLE, emoji: true } },
          {
            type: 'section',
            fields: [
              { type: 'mrkdwn', text: `*Incident*\n${INCIDENT}` },
              { type: 'mrkdwn', text: '*Severity*\nerror' },
              { type: 'mrkdwn', text: '*Service*\ntrading-api' },
              { type: 'mrkdwn', text: '*Step*\nrollback_deployment' },
              { type: 'mrkdwn', text: '*Level*\nL2' },
            ],
          },
          {
            type: 'section',
            text: {
              type: 'mrkdwn',
              text: [
                'API 延迟 350ms，部署 v2.3.1 后开始。建议回滚 &lt;v2.3.0&gt; &amp; 观察',
                '',
                'approval_id: a1',
                'evidence:',
                '  - check_recent_deploys: v2.3.1 deployed at 14:00',
                '  - condition: "api_latency_p99 &gt; 200ms" is true',
                '',
                '*To:* <@U04JOHNPRK> (oncall_sre), <@U04CHENJIE> (team_lead)',
              ].join('\n'),
            },
          },
          {
            type: 'context',
            elements: [{ type: 'mrkdwn', text: 'Approve or reject with the personal link sent to you by e-mail, or `npx sre-agent approve|reject <approval-id>`.' }],
          },
        ],
      });
    });
  });

  describe('channels: email and sns (SNS Publish)', () => {
    it('e-mails each person separately, with only their own links and a recipient_email attribute for filter policies', async () => {
      // act
      const outcomes = await createNotifier(config(), { sns: new SNSClient({ region: 'us-east-1' }) }).send({ ...APPROVAL, channels: ['email'] });
      // assess
      expect(outcomes).toEqual([
        { channel: 'email', ok: true, detail: 'published (MessageId msg-1)', person: 'John Park' },
        { channel: 'email', ok: true, detail: 'published (MessageId msg-1)', person: 'Chen Jie' },
      ]);
      const [john, chen] = published();
      expect(john.TopicArn).toBe(TOPIC);
      expect(john.Subject!.length).toBeLessThan(100);
      expect(john.Subject).toBe(`${TITLE.slice(0, 98)}…`);
      expect(john.MessageAttributes).toEqual({
        incident_id: { DataType: 'String', StringValue: INCIDENT },
        kind: { DataType: 'String', StringValue: 'approval_request' },
        audience: { DataType: 'String', StringValue: 'personal' },
        recipient_email: { DataType: 'String', StringValue: 'john.park@exchange.example' },
        roles: { DataType: 'String', StringValue: 'oncall_sre' },
      });
      expect(john.Message).toContain(`Approve as John Park (oncall_sre): ${links('john').approveUrl}`);
      expect(john.Message).toContain(`Reject as John Park (oncall_sre): ${links('john').rejectUrl}`);
      expect(john.Message).toContain('Incident: INC-20260209-001');
      expect(john.Message).toContain(`Timeline: http://127.0.0.1:8080/incidents/${INCIDENT}`);
      expect(chen.MessageAttributes?.recipient_email?.StringValue).toBe('chen.jie@exchange.example');
      expect(chen.Message).not.toContain('decision=approve');
    });

    it('publishes one plain-text message to everyone on the sns channel', async () => {
      // act
      const outcomes = await createNotifier(config(), { sns: new SNSClient({ region: 'us-east-1' }) }).send({ ...APPROVAL, recipients: [], channels: ['sns'], title: 'line one\nline two' });
      // assess
      expect(outcomes).toEqual([{ channel: 'sns', ok: true, detail: 'published (MessageId msg-1)' }]);
      const [msg] = published();
      expect(msg.Subject).toBe('line one line two');
      expect(msg.MessageAttributes?.audience?.StringValue).toBe('all');
      expect(msg.TopicArn).toBe(TOPIC);
      expect(msg.Message).toBe(
        ['line one\nline two', '', APPROVAL.message, '', `Incident: ${INCIDENT}`, 'Severity: error', 'Service: trading-api', 'Playbook: traffic-surge', 'Step: rollback_deployment', 'Level: L2', 'Risk: MEDIUM', '', 'approval_id: a1', 'evidence:', '  - check_recent_deploys: v2.3.1 deployed at 14:00', '  - condition: "api_latency_p99 > 200ms" is true', '', `Timeline: http://127.0.0.1:8080/incidents/${INCIDENT}`].join('\n'),
      );
    });
  });

  describe('isolation', () => {
    it('still sends PagerDuty and e-mail when Slack answers 500, and says which failed', async () => {
      // prepare
      server.respond((req) => (req.path === SLACK_PATH ? { status: 500, body: 'rollup_error' } : { status: 202, body: { status: 'success' } }));
      // act
      const outcomes = await createNotifier(config(), { sns: new SNSClient({ region: 'us-east-1' }) }).send(APPROVAL);
      // assess
      expect(outcomes.map((o) => [o.channel, o.ok, o.detail])).toEqual([
        ['pagerduty', true, 'trigger accepted (HTTP 202)'],
        ['slack', false, 'HTTP 500: rollup_error'],
        ['email', true, 'published (MessageId msg-1)'],
        ['email', true, 'published (MessageId msg-1)'],
      ]);
      expect(server.to('/v2/enqueue')).toHaveLength(1);
      expect(published()).toHaveLength(2);
    });

    it('reports an unreachable PagerDuty and an SNS error without stopping Slack', async () => {
      // prepare
      const down = await startRecorder();
      await down.close();
      sns.on(PublishCommand).rejects(Object.assign(new Error('User is not authorized to perform SNS:Publish'), { name: 'AuthorizationErrorException' }));
      // act
      const outcomes = await createNotifier(config({ pagerduty: { routingKey: { value: ROUTING_KEY }, eventsUrl: down.url }, pagerdutyRetries: 0 }), { sns: new SNSClient({ region: 'us-east-1' }) }).send({
        ...APPROVAL,
        channels: ['pagerduty', 'slack', 'sns'],
      });
      // assess
      expect(outcomes[0]).toMatchObject({ channel: 'pagerduty', ok: false });
      expect(outcomes[0].detail).toMatch(/^trigger failed: TypeError: fetch failed \(ECONNREFUSED\)$/);
      expect(outcomes[1]).toMatchObject({ channel: 'slack', ok: true });
      expect(outcomes[2]).toEqual({ channel: 'sns', ok: false, detail: 'AuthorizationErrorException: User is not authorized to perform SNS:Publish' });
    });
  });

  describe('configuration', () => {
    it('answers "not configured" for every channel without configuration, never a silent success', async () => {
      // act
      const notifier = createNotifier({});
      const outcomes = await notifier.send({ ...APPROVAL, channels: ['pagerduty', 'phone', 'slack', 'email', 'sns'] });
      // assess
      expect(notifier.configured).toEqual([]);
      expect(outcomes).toEqual(['pagerduty', 'phone', 'slack', 'email', 'sns'].map((channel) => ({ channel, ok: false, detail: 'not configured' })));
      expect(server.requests).toHaveLength(0);
    });

    it('reads credentials from Secrets Manager, and a missing secret leaves its channel "not configured"', async () => {
      // prepare
      secretsManager.on(GetSecretValueCommand, { SecretId: 'sre-agent/pagerduty-routing-key' }).resolves({ SecretString: ROUTING_KEY });
      secretsManager.on(GetSecretValueCommand, { SecretId: 'sre-agent/slack-webhook-url' }).rejects(new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} }));
      const secrets = secretsManagerReader(new SecretsManagerClient({ region: 'us-east-1' }));
      const notifier = createNotifier(
        { pagerduty: { routingKey: { secretId: 'sre-agent/pagerduty-routing-key' }, eventsUrl: server.url }, slack: { webhookUrl: { secretId: 'sre-agent/slack-webhook-url' } } },
        { secrets },
      );
      // act
      const outcomes = await notifier.send({ ...APPROVAL, channels: ['pagerduty', 'slack'] });
      await notifier.send({ ...APPROVAL, channels: ['pagerduty'] });
      // assess
      expect(outcomes[0]).toMatchObject({ channel: 'pagerduty', ok: true });
      expect((server.to('/v2/enqueue')[0].json as { routing_key: string }).routing_key).toBe(ROUTING_KEY);
      expect(outcomes[1]).toEqual({ channel: 'slack', ok: false, detail: 'not configured (secret sre-agent/slack-webhook-url is missing or empty)' });
      // Cached per warm Lambda: one read of the routing key for two sends.
      expect(secretsManager.commandCalls(GetSecretValueCommand, { SecretId: 'sre-agent/pagerduty-routing-key' })).toHaveLength(1);
    });
  });
});

describe('notifyOpsFor (send_alert\'s notify target)', () => {
  it('sends one channel, maps the severity, and reports every outcome to the wiring', async () => {
    // prepare
    const seen: string[] = [];
    const ops = notifyOpsFor(createNotifier(config()), { now: () => AT, onOutcomes: async (n, outcomes) => void seen.push(`${n.kind}:${outcomes.map((o) => o.channel).join(',')}`) });
    // act
    const pd = await ops.send('pagerduty', { severity: 'CRITICAL', title: '撮合引擎延迟严重异常', text: '可能需要紧急介入', incidentId: INCIDENT });
    const fax = await ops.send('fax', { severity: 'LOW', title: 't', text: 'x', incidentId: INCIDENT });
    const mail = await ops.send('email', { severity: 'LOW', title: 't', text: 'x', incidentId: INCIDENT });
    // assess
    expect(pd).toEqual({ ok: true, detail: 'trigger accepted (HTTP 202)' });
    expect((server.to('/v2/enqueue')[0].json as { payload: { severity: string } }).payload.severity).toBe('critical');
    expect(fax).toEqual({ ok: false, detail: 'unknown channel "fax" (known: pagerduty, phone, slack, email, sns)' });
    expect(mail).toEqual({ ok: false, detail: 'not configured (no SNS client)' });
    expect(seen).toEqual(['alert:pagerduty', 'alert:email']);
  });
});

describe('PagerDutyOnCall', () => {
  const ROLES = {
    oncall_sre: { scheduleIds: ['PSREPRI'], escalationPolicyIds: ['PSRETRD'] },
    team_lead: { scheduleIds: ['PSRESEC'], escalationPolicyIds: ['PSRETBK'] },
  };
  /** GET /oncalls answer in PagerDuty's documented shape (include[]=users). */
  const oncalls = (entries: { user: string; name: string; email: string; level?: number; start: string | null; end: string | null }[]) => ({
    oncalls: entries.map((e) => ({
      escalation_policy: { id: 'PSRETRD', type: 'escalation_policy_reference', summary: 'sre-trading' },
      escalation_level: e.level ?? 1,
      schedule: { id: 'PSREPRI', type: 'schedule_reference', summary: 'sre-primary' },
      user: { id: e.user, type: 'user', name: e.name, email: e.email, summary: e.name, time_zone: 'Asia/Singapore' },
      start: e.start,
      end: e.end,
    })),
    limit: 100,
    offset: 0,
    more: false,
    total: null,
  });
  const lookup = (baseUrl: string, apiKey: () => Promise<string | undefined> = async () => 'pd-api-key') => new PagerDutyOnCall({ roles: ROLES, apiKey, fallback: ROTATION, baseUrl });

  it('GETs /oncalls with the documented query parameters and headers and returns the people on call at that time', async () => {
    // prepare
    server.respond(() => ({
      status: 200,
      body: oncalls([
        { user: 'PJOHN03', name: 'John Park', email: 'john.park@exchange.example', start: '2026-02-09T09:00:00Z', end: '2026-02-16T09:00:00Z' },
        // Starts inside the one-minute query range, after `at`: not on call yet.
        { user: 'PLINA02', name: 'Li Na', email: 'li.na@exchange.example', start: '2026-02-09T14:17:30Z', end: '2026-02-09T20:00:00Z' },
      ]),
    }));
    // act
    const people = await lookup(server.url).whoIs('oncall_sre', AT);
    // assess
    const [req] = server.requests;
    expect(req.method).toBe('GET');
    expect(req.path).toBe('/oncalls');
    expect(req.query.getAll('schedule_ids[]')).toEqual(['PSREPRI']);
    expect(req.query.getAll('escalation_policy_ids[]')).toEqual(['PSRETRD']);
    expect(req.query.getAll('include[]')).toEqual(['users']);
    expect(req.query.get('since')).toBe('2026-02-09T14:17:00.000Z');
    expect(req.query.get('until')).toBe('2026-02-09T14:18:00.000Z');
    expect(req.headers.authorization).toBe('Token token=pd-api-key');
    expect(req.headers.accept).toBe('application/vnd.pagerduty+json;version=2');
    // Phone and Slack come from the rotation file's entry for the same PagerDuty user.
    expect(people).toEqual([{ name: 'John Park', handle: 'john.park', email: 'john.park@exchange.example', phone: '+12025550103', slack: 'U04JOHNPRK', pagerdutyUserId: 'PJOHN03', source: 'pagerduty' }]);
  });

  it('reads the API key from Secrets Manager', async () => {
    // prepare
    secretsManager.on(GetSecretValueCommand, { SecretId: 'sre-agent/pagerduty-api-key' }).resolves({ SecretString: 'from-secrets-manager' });
    const secrets = secretsManagerReader(new SecretsManagerClient({ region: 'us-east-1' }));
    server.respond(() => ({ status: 200, body: oncalls([{ user: 'PCHEN10', name: 'Chen Jie', email: 'chen.jie@exchange.example', start: null, end: null }]) }));
    // act
    const people = await lookup(server.url, () => readSecret({ secretId: 'sre-agent/pagerduty-api-key' }, secrets)).whoIs('team_lead', AT);
    // assess
    expect(server.requests[0].headers.authorization).toBe('Token token=from-secrets-manager');
    expect(server.requests[0].query.getAll('schedule_ids[]')).toEqual(['PSRESEC']);
    expect(people.map((p) => [p.name, p.source])).toEqual([['Chen Jie', 'pagerduty']]);
  });

  it('falls back to the rotation file when PagerDuty answers 503, and says so', async () => {
    // prepare
    server.respond(() => ({ status: 503, body: { error: { message: 'Service Unavailable', code: 2001 } } }));
    // act
    const people = await lookup(server.url).whoIs('oncall_sre', AT);
    // assess
    expect(people.map((p) => p.name)).toEqual(['John Park']);
    expect(people[0].source).toBe('rotation-file (pagerduty failed: GET /oncalls answered HTTP 503: {"error":{"message":"Service Unavailable","code":2001}})');
  });

  it('falls back when PagerDuty is unreachable', async () => {
    // prepare
    const down = await startRecorder();
    await down.close();
    // act
    const people = await lookup(down.url).whoIs('team_lead', new Date('2026-02-18T00:00:00Z'));
    // assess
    expect(people.map((p) => p.name)).toEqual(['Maria Garcia']);
    expect(people[0].source).toMatch(/^rotation-file \(override .*Chen Jie on leave\) \(pagerduty failed: TypeError: fetch failed \(ECONNREFUSED\)\)$/);
  });

  it('falls back when PagerDuty names nobody or has no API key, and asks it nothing for unmapped roles', async () => {
    // prepare
    server.respond(() => ({ status: 200, body: oncalls([]) }));
    // act
    const nobody = await lookup(server.url).whoIs('oncall_sre', AT);
    const noKey = await lookup(server.url, async () => undefined).whoIs('oncall_sre', AT);
    const dba = await lookup(server.url).whoIs('dba', AT);
    // assess
    expect(nobody[0].source).toBe('rotation-file (pagerduty: nobody on call for oncall_sre)');
    expect(noKey[0].source).toBe('rotation-file (pagerduty not configured: no API key)');
    expect(dba).toEqual([expect.objectContaining({ name: 'Zhao Min', source: 'rotation-file' })]);
    expect(server.requests).toHaveLength(1);
  });
});

describe('awsNotifying (Lambda wiring)', () => {
  it('reads credentials from secrets under SECRETS_PREFIX, publishes to TOPIC_ARN, and looks people up in the bundled rotation file', async () => {
    // prepare: no PagerDuty or Slack secret exists in this account yet.
    secretsManager.on(GetSecretValueCommand).rejects(new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} }));
    // The function's config folder holds what it bundles: statemachines/config.json (CONFIG_FILES).
    const { notifier, oncall } = awsNotifying({ TOPIC_ARN: TOPIC, SECRETS_PREFIX: 'sre-agent/', SRE_AGENT_CONFIG_DIR: path.resolve(__dirname, '../../statemachines') });
    // act
    const outcomes = await notifier.send({ ...APPROVAL, recipients: [], channels: ['pagerduty', 'slack', 'email'] });
    const people = await oncall.whoIs('oncall_sre', AT);
    // assess
    expect(notifier.configured).toEqual(['pagerduty', 'phone', 'slack', 'email', 'sns']);
    expect(outcomes).toEqual([
      { channel: 'pagerduty', ok: false, detail: 'not configured (secret sre-agent/pagerduty-routing-key is missing or empty)' },
      { channel: 'slack', ok: false, detail: 'not configured (secret sre-agent/slack-webhook-url is missing or empty)' },
      { channel: 'email', ok: true, detail: 'published (MessageId msg-1)' },
    ]);
    expect(published()[0].TopicArn).toBe(TOPIC);
    expect(people.map((p) => p.name)).toEqual(['John Park']);
  });
});
