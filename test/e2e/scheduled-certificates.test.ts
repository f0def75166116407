/**
 * The certificate playbook on the local engine, started by `sre-agent run`'s path (the schedule
 * rule's input): a local TLS server with a certificate expiring in 5 days, check_certificates by
 * handshake, one renewal ticket kept with the incident, none more on a second run.
 */
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { expectNoDenials } from '../helpers/iam';
import { startLocal, type RunningAgent } from '../../lib/local/main';
import { nextRun, runPlaybookNow } from '../../lib/local/schedules';
import type { TicketDesk } from '../../lib/actions/tickets/desk';

let server: tls.Server;
let agent: RunningAgent;
let domain: string;

beforeAll(async () => {
  const pems = await generate([{ name: 'commonName', value: 'api.exchange.test' }], { keyType: 'ec', notBeforeDate: new Date(Date.now() - 86_400_000), notAfterDate: new Date(Date.now() + 5 * 86_400_000 + 3_600_000), algorithm: 'sha256' });
  server = tls.createServer({ cert: pems.cert, key: pems.private }, (s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  domain = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  agent = await startLocal({ port: 0, speedUp: 60, tlsDomains: domain, kube: false, iamCheck: true, log: () => undefined });
}, 60_000);
afterAll(async () => {
  await agent?.stop();
  if (agent) expectNoDenials(agent.engine);
  await new Promise((r) => server.close(r));
});

describe('certificate-expiry-warning on the local engine', () => {
  it('runs now by the schedule path and opens one renewal ticket per expiring certificate, once', async () => {
    // act
    const first = await runPlaybookNow(agent.engine, 'certificate-expiry-warning', new Date());
    await agent.engine.executions.get(first.name)!.done;
    const second = await runPlaybookNow(agent.engine, 'certificate-expiry-warning', new Date(Date.now() + 1000));
    await agent.engine.executions.get(second.name)!.done;

    // assess
    expect(agent.engine.executions.get(first.name)!.status).toBe('SUCCEEDED');
    const tickets = await (agent.engine.dispatchDeps().targets.tickets as TicketDesk).list();
    expect(tickets.map((t) => [t.title, t.priority, t.assignee])).toEqual([[`证书即将到期: ${domain} (5 天)`, 'HIGH', 'infra-team']]);
  }, 60_000);
});

describe('Function: nextRun', () => {
  it.each([
    ['cron(0 1 * * ? *)', '2026-02-09T14:00:00Z', '2026-02-10T01:00:00.000Z'],
    ['cron(0/15 * * * ? *)', '2026-02-09T14:07:30Z', '2026-02-09T14:15:00.000Z'],
    ['cron(0 9 ? * 2-6 *)', '2026-02-07T10:00:00Z', '2026-02-09T09:00:00.000Z'],
    ['rate(5 minutes)', '2026-02-09T14:00:00Z', '2026-02-09T14:05:00.000Z'],
  ])('%s after %s → %s', (expr, from, to) => {
    expect(nextRun(expr, new Date(from)).toISOString()).toBe(to);
  });

  it('refuses what it does not run locally, naming the expression', () => {
    expect(() => nextRun('cron(0 1 ? * MON-FRI *)', new Date())).toThrow('schedule "cron(0 1 ? * MON-FRI *)": only rate(...) and numeric cron');
  });
});
