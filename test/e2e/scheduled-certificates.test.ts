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
import { run } from '../../bin/cli';
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

describe('the CLI: run, tickets, tickets close, config undo', () => {
  async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await run(['node', 'sre-agent', ...args, '--url', agent.url], { out: (t) => (out += t), err: (t) => (err += t) });
    return { code, out, err };
  }
  const ticketsOpen = async () => (JSON.parse((await cli('tickets')).out) as { id: string; title: string; status: string }[]).filter((t) => t.status !== 'CLOSED');

  it('run starts the playbook now; a closed ticket lets the next run open a new one for its subject', async () => {
    // prepare: the ticket of the test above is open
    const [open] = await ticketsOpen();
    expect(open?.title).toBe(`证书即将到期: ${domain} (5 天)`);
    // act: close it, then run the playbook from the CLI
    const closed = await cli('tickets', 'close', open!.id);
    const started = await cli('run', 'certificate-expiry-warning');
    // assess
    expect(closed.code).toBe(0);
    expect(JSON.parse(closed.out)).toMatchObject({ id: open!.id, status: 'CLOSED' });
    expect(started.code).toBe(0);
    const { name } = JSON.parse(started.out) as { name: string };
    expect(name).toMatch(/^certificate-expiry-warning-manual-/);
    await agent.engine.executions.get(name)!.done;
    const now = await ticketsOpen();
    expect(now).toHaveLength(1);
    expect(now[0]!.id).not.toBe(open!.id);
    expect(now[0]!.title).toBe(open!.title);
    const incidentTickets = JSON.parse((await cli('tickets', '--incident', 'INC-19700101-001')).out) as unknown[];
    expect(incidentTickets).toEqual([]);
  }, 60_000);

  it('names what it could not find: an unknown playbook, an unknown ticket, an unknown incident (404s)', async () => {
    const playbook = await cli('run', 'no-such-playbook');
    expect(playbook.code).toBe(1);
    expect(playbook.err).toMatch(/POST \/api\/playbooks\/no-such-playbook\/run → 404: .*no compiled playbook \\"no-such-playbook\\" \(known: certificate-expiry-warning,/);
    const ticket = await cli('tickets', 'close', 'TKT-nope');
    expect(ticket.code).toBe(1);
    expect(ticket.err).toMatch(/→ 404: .*no ticket TKT-nope/);
    const undo = await cli('config', 'undo', 'INC-19700101-001', '--as', 'alice');
    expect(undo.code).toBe(1);
    expect(undo.err).toMatch(/→ 404: .*INC-19700101-001/);
  });

  it('config undo of an incident that changed no config says so and changes nothing', async () => {
    // prepare: the certificate run's incident changed no config
    const incidents = JSON.parse((await cli('incidents')).out) as { id: string; playbook: string }[];
    const id = incidents.find((i) => i.playbook === 'certificate-expiry-warning')!.id;
    // act
    const undo = await cli('config', 'undo', id, '--as', 'alice');
    // assess
    expect(undo.code).toBe(0);
    expect(JSON.parse(undo.out)).toMatchObject({ incidentId: id, restored: [], conflicts: [] });
  });
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
