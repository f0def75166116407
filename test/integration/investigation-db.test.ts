/**
 * Seed scenario 3's investigation on the real MariaDB at 127.0.0.1:3306 and the Kubernetes API
 * sandbox: the db_connections check maps connections per database user to services through the
 * service map (identified_leaking_service) and joins that service with its recent rollouts, so
 * the connection-leak hypothesis says whether a deploy of it explains the leak. Read-only: no KILL.
 */
import * as mysql from 'mysql2/promise';
import { runCheck, type CheckOutcome, type CheckPorts } from '../../lib/analysis/checks';
import { hypothesesOf } from '../../lib/analysis/investigate';
import type { InvestigationCheckSpec } from '../../lib/compiled/manifest';
import { LocalMetricStore } from '../../lib/metrics';
import { createServiceMap } from '../../lib/policy/services';
import { startTestSandbox, type TestSandbox } from '../helpers/kube-sandbox';
import { defaultCatalogue } from '../../lib/playbook/catalogue-file';

jest.setTimeout(60000);

const HOST = '127.0.0.1';
const LEAKY_USER = 'sre_inv_leaky';
const DB = `sre_data_investigation_${process.pid}`;
const services = createServiceMap({
  services: { 'order-service': { kubernetes: true, namespace: 'trading', containers: ['order-service'], database_users: [LEAKY_USER], consumer_groups: [] } },
});
const SPEC: InvestigationCheckSpec = { name: 'db_connections', kind: 'db_connections', windowSeconds: 1800, timeoutSeconds: 20 };

let admin: mysql.Pool;
let agent: mysql.Pool;
let opened: mysql.Connection[] = [];
let t: TestSandbox;

async function countUser(user: string): Promise<number> {
  const [rows] = await admin.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM information_schema.processlist WHERE user = ?', [user]);
  return Number(rows[0]?.n);
}

async function settle(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 60 && !(await check()); i += 1) await new Promise((r) => setTimeout(r, 50));
}

async function leak(n: number): Promise<void> {
  const conns = await Promise.all(Array.from({ length: n }, () => mysql.createConnection({ host: HOST, user: LEAKY_USER, database: DB })));
  for (const c of conns) c.on('error', () => undefined);
  opened.push(...conns);
  await settle(async () => (await countUser(LEAKY_USER)) >= n);
}

function ports(): CheckPorts {
  return { mysql: agent, kube: t.kube, metrics: new LocalMetricStore({ catalogue: defaultCatalogue() }), catalogue: defaultCatalogue(), services };
}

beforeAll(async () => {
  admin = mysql.createPool({ host: HOST, user: 'root', connectionLimit: 2 });
  agent = mysql.createPool({ host: HOST, user: 'root', connectionLimit: 1 });
  await admin.query(`CREATE DATABASE IF NOT EXISTS ${DB}`);
  for (const host of ['localhost', '%']) {
    await admin.query(`CREATE USER IF NOT EXISTS '${LEAKY_USER}'@'${host}'`);
    await admin.query(`GRANT SELECT ON ${DB}.* TO '${LEAKY_USER}'@'${host}'`);
  }
});

beforeEach(async () => {
  t = await startTestSandbox();
});

afterEach(async () => {
  for (const c of opened) c.destroy();
  opened = [];
  await settle(async () => (await countUser(LEAKY_USER)) === 0);
  await t.close();
});

afterAll(async () => {
  await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
  await agent.end();
  await admin.end();
});

describe('db_connections check joined with deploys (identified_leaking_service)', () => {
  it('names order-service as the leaking service and the rollout of it just before the anomaly', async () => {
    // prepare: order-service v1.8.0 rolls out, then its database user holds 20 idle connections
    t.sandbox.cluster.deploy('trading', 'order-service', 'v1.8.0');
    await t.sandbox.cluster.until(() => t.sandbox.cluster.rolledOut('trading', 'order-service'));
    await leak(20);
    const now = new Date(Date.now() + 8 * 60_000);
    const incident = { id: 'INC-20260209-003', service: 'trading-api', anomalyStartedAt: new Date(Date.now() + 3 * 60_000).toISOString(), detectedAt: now.toISOString() };
    // act
    const outcome = await runCheck(SPEC, incident, ports(), now);
    // assess
    expect(outcome.status).toBe('ok');
    expect(outcome.data).toMatchObject({ identified_leaking_service: 'order-service', leaking_user: LEAKY_USER, deploysChecked: true });
    expect((outcome.data?.by_service as Record<string, number>)['order-service']).toBeGreaterThanOrEqual(20);
    expect(outcome.data?.leaking_service_deploys).toEqual([expect.objectContaining({ service: 'order-service', deployment: 'trading/order-service', change: 'image', images: [expect.stringMatching(/:v1\.8\.0$/)] })]);
    const leakHypothesis = hypothesesOf({ incident: { ...incident, playbook: 'rds-connection-exhaustion' }, checks: [outcome as CheckOutcome], now }).find((h) => h.id === 'connection-leak');
    expect(leakHypothesis?.statement).toBe('order-service 连接泄漏，部署 v1.8.0 后开始');
    expect(leakHypothesis?.evidence).toEqual(expect.arrayContaining([{ label: 'identified_leaking_service', value: 'order-service', source: 'mysql:processlist + service map' }, expect.objectContaining({ label: 'deploy trading/order-service v1.8.0', source: 'kube:replicasets' })]));
    expect(leakHypothesis?.confidence).toBeGreaterThan(0);
    expect(leakHypothesis?.confidence).toBeLessThan(1);
  });

  it('says no deploy of the leaking service explains it when none falls in the window, with a lower confidence', async () => {
    // prepare: the same leak, no rollout of order-service
    await leak(20);
    const now = new Date();
    const incident = { id: 'INC-20260209-004', service: 'trading-api', anomalyStartedAt: new Date(Date.now() - 5 * 60_000).toISOString(), detectedAt: now.toISOString() };
    // act
    const outcome = await runCheck(SPEC, incident, ports(), now);
    const leakHypothesis = hypothesesOf({ incident: { ...incident, playbook: 'rds-connection-exhaustion' }, checks: [outcome], now }).find((h) => h.id === 'connection-leak');
    // assess
    expect(outcome.data?.leaking_service_deploys).toEqual([]);
    expect(leakHypothesis?.statement).toBe('order-service 连接泄漏（近期无部署）');
    expect(leakHypothesis?.evidence).toEqual(expect.arrayContaining([{ label: 'rollouts of order-service in the window', value: 0, source: 'kube:replicasets' }]));
  });

  it('is skipped, not failed, without a database target', async () => {
    const outcome = await runCheck(SPEC, { id: 'INC-20260209-005', service: 'trading-api', anomalyStartedAt: new Date().toISOString(), detectedAt: new Date().toISOString() }, { ...ports(), mysql: undefined }, new Date());
    expect(outcome).toMatchObject({ status: 'skipped', error: 'CheckSkipped: MySQL / RDS is not configured' });
  });
});
