/** Integration tests of the incident store against dynalite (in-process, in memory, random port; fresh tables per test). */
import { DeleteCommand, GetCommand, PutCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  IncidentNotFoundError,
  InvalidTransitionError,
  appendEvent,
  appendEvents,
  attachExecution,
  beginExecution,
  findOpenIncident,
  getIncident,
  getTimeline,
  incidentMetrics,
  isLikelyRepeat,
  listIncidents,
  markMitigated,
  markInvestigated,
  nextIncidentId,
  openOrJoinIncident,
  raiseSeverity,
  recordInvestigation,
  transitionIfStatus,
  transitionIncident,
  type OpenIncidentInput,
} from '../../lib/incident';
import { IncidentError } from '../../lib/incident/errors';
import { createTables, startDynalite, type LocalDynamo, type Tables } from '../../lib/local/dynalite';

let dynamo: LocalDynamo;
let tables: Tables;
let tableCount = 0;

beforeAll(async () => {
  dynamo = await startDynalite({ port: 0 });
});

afterAll(async () => {
  await dynamo.stop();
});

beforeEach(async () => {
  tableCount += 1;
  tables = { incidents: `incidents-${tableCount}`, breakers: `breakers-${tableCount}` };
  await createTables(dynamo.client, tables);
});

const DAY = '2026-02-09';
const at = (hhmm: string, seconds = 0): string => `${DAY}T${hhmm}:${String(seconds).padStart(2, '0')}.000Z`;

function alarm(overrides: Partial<OpenIncidentInput> & { name?: string } = {}): OpenIncidentInput {
  const { name, ...rest } = overrides;
  return {
    playbook: 'api-latency',
    service: 'trading-api',
    severity: 'HIGH',
    alarm: { name: name ?? 'trading-api-p99-latency', reason: 'Threshold crossed' },
    detectedAt: at('14:15'),
    anomalyStartedAt: at('14:00'),
    ...rest,
  };
}

/** A document client that fails like a dying process on the first command `crashOn` picks, then works again. */
function crashingDoc(crashOn: (command: unknown) => boolean): DynamoDBDocumentClient {
  let crashed = false;
  return {
    send: (command: unknown) => {
      if (!crashed && crashOn(command)) {
        crashed = true;
        return Promise.reject(new Error('simulated crash'));
      }
      return dynamo.doc.send(command as PutCommand);
    },
  } as unknown as DynamoDBDocumentClient;
}


async function rawItem(pk: string, sk: string): Promise<Record<string, unknown> | undefined> {
  return (await dynamo.doc.send(new GetCommand({ TableName: tables.incidents, Key: { pk, sk }, ConsistentRead: true }))).Item;
}

/**
 * What an opener of an earlier version left when it died after reserving the key: it wrote the
 * key (with the incident's body) first and the incident item second. Opening is one transaction
 * now, but such keys may still be found, and are completed from their body.
 */
async function keyLeftByDeadOpener(input: OpenIncidentInput = alarm()): Promise<string> {
  const id = await nextIncidentId(dynamo.doc, tables, input.detectedAt);
  const detectedAt = new Date(input.detectedAt).toISOString();
  const incident = { id, playbook: input.playbook, service: input.service, severity: input.severity, status: 'OPEN', alarm: input.alarm, timestamps: { anomalyStartedAt: new Date(input.anomalyStartedAt).toISOString(), detectedAt } };
  await dynamo.doc.send(new PutCommand({ TableName: tables.incidents, Item: { pk: `OPEN#${input.playbook}#${input.service}`, sk: 'OPEN', incidentId: id, openedBy: `${input.alarm?.name}@${detectedAt}`, incident } }));
  return id;
}

describe('Incident store (dynalite)', () => {
  describe('Function: nextIncidentId', () => {
    it('numbers the incidents of a UTC day INC-YYYYMMDD-001, -002, -003 in order', async () => {
      const ids = [];
      for (let i = 0; i < 3; i += 1) ids.push(await nextIncidentId(dynamo.doc, tables, new Date(at('23:59'))));

      expect(ids).toEqual(['INC-20260209-001', 'INC-20260209-002', 'INC-20260209-003']);
    });

    it('keeps a separate counter per UTC day', async () => {
      await nextIncidentId(dynamo.doc, tables, at('10:00'));

      const nextDay = await nextIncidentId(dynamo.doc, tables, '2026-02-10T00:00:01Z');

      expect(nextDay).toBe('INC-20260210-001');
    });

    it('hands 100 concurrent callers 100 unique ids, 001 to 100', async () => {
      const ids = await Promise.all(Array.from({ length: 100 }, () => nextIncidentId(dynamo.doc, tables, at('12:00'))));

      expect(new Set(ids).size).toBe(100);
      expect([...ids].sort()).toEqual(Array.from({ length: 100 }, (_, i) => `INC-20260209-${String(i + 1).padStart(3, '0')}`));
    });

    it('widens the number past 999 instead of wrapping', async () => {
      await dynamo.doc.send(new PutCommand({ TableName: tables.incidents, Item: { pk: 'COUNTER#20260209', sk: 'COUNTER', n: 999 } }));

      expect(await nextIncidentId(dynamo.doc, tables, at('12:00'))).toBe('INC-20260209-1000');
    });
  });

  describe('Function: openOrJoinIncident', () => {
    it('opens an incident with status OPEN, its alarm and timestamps, and an incident_opened event', async () => {
      const result = await openOrJoinIncident(dynamo.doc, tables, alarm());

      expect(result).toEqual({
        joined: false,
        recovered: false,
        openedNow: true,
        incident: {
          id: 'INC-20260209-001',
          playbook: 'api-latency',
          service: 'trading-api',
          severity: 'HIGH',
          status: 'OPEN',
          alarm: { name: 'trading-api-p99-latency', reason: 'Threshold crossed' },
          alarms: { 'trading-api-p99-latency': { firstAt: at('14:15'), lastAt: at('14:15'), fired: 1 } },
          timestamps: { anomalyStartedAt: at('14:00'), detectedAt: at('14:15') },
        },
      });
      expect(await getIncident(dynamo.doc, tables, 'INC-20260209-001')).toEqual(result.incident);
      const timeline = await getTimeline(dynamo.doc, tables, 'INC-20260209-001');
      expect(timeline.map((e) => [e.type, e.seq])).toEqual([['incident_opened', 0]]);
    });

    it('joins the open incident on a second alarm and records an alarm_joined event', async () => {
      const first = await openOrJoinIncident(dynamo.doc, tables, alarm());

      const second = await openOrJoinIncident(dynamo.doc, tables, alarm({ name: 'trading-api-5xx', detectedAt: at('14:16') }));

      expect(second.joined).toBe(true);
      expect(second.incident.id).toBe(first.incident.id);
      const timeline = await getTimeline(dynamo.doc, tables, first.incident.id);
      expect(timeline.map((e) => e.type)).toEqual(['incident_opened', 'alarm_joined']);
      expect(timeline[1]?.summary).toContain('trading-api-5xx');
    });

    it('opens exactly one incident for 50 concurrent alarms on one (playbook, service); the other 49 join', async () => {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => openOrJoinIncident(dynamo.doc, tables, alarm({ name: `alarm-${i}`, detectedAt: at('14:15', i) }))),
      );

      const opened = results.filter((r) => !r.joined);
      const joined = results.filter((r) => r.joined);
      expect(opened).toHaveLength(1);
      expect(joined).toHaveLength(49);
      const id = opened[0]!.incident.id;
      expect(new Set(results.map((r) => r.incident.id))).toEqual(new Set([id]));
      expect(await listIncidents(dynamo.doc, tables, { limit: 1000 })).toHaveLength(1);
      const timeline = await getTimeline(dynamo.doc, tables, id);
      expect(timeline.filter((e) => e.type === 'incident_opened')).toHaveLength(1);
      expect(timeline.filter((e) => e.type === 'alarm_joined')).toHaveLength(49);
    });

    it('opens exactly 50 incidents for 200 concurrent alarms over 50 services, with unique ids', async () => {
      const inputs = Array.from({ length: 200 }, (_, i) =>
        alarm({ service: `svc-${String(i % 50).padStart(2, '0')}`, name: `alarm-${i}`, detectedAt: at('14:15', i % 60) }),
      );

      const results = await Promise.all(inputs.map((input) => openOrJoinIncident(dynamo.doc, tables, input)));

      const incidents = await listIncidents(dynamo.doc, tables, { limit: 1000 });
      expect(incidents).toHaveLength(50);
      expect(new Set(incidents.map((i) => i.service)).size).toBe(50);
      expect(new Set(incidents.map((i) => i.id)).size).toBe(50);
      for (const i of incidents) expect(i.id).toMatch(/^INC-20260209-\d{3}$/);
      expect(results.filter((r) => !r.joined)).toHaveLength(50);
      expect(results.filter((r) => r.joined)).toHaveLength(150);
      results.forEach((r, i) => expect(r.incident.service).toBe(inputs[i]!.service));
    });

    it('treats a redelivery of the opening alarm (same name and detectedAt) as the opener, not a join', async () => {
      const first = await openOrJoinIncident(dynamo.doc, tables, alarm());

      const again = await openOrJoinIncident(dynamo.doc, tables, alarm());

      expect(again).toEqual({ incident: first.incident, joined: false, recovered: false, openedNow: false });
      expect((await getTimeline(dynamo.doc, tables, first.incident.id)).map((e) => e.type)).toEqual(['incident_opened']);
    });

    it('opens in one transaction: a crash at it leaves no key, no incident and no event, and the retry opens the incident', async () => {
      await expect(openOrJoinIncident(crashingDoc((c) => c instanceof TransactWriteCommand), tables, alarm())).rejects.toThrow('simulated crash');
      expect(await rawItem('OPEN#api-latency#trading-api', 'OPEN')).toBeUndefined();
      expect(await listIncidents(dynamo.doc, tables)).toEqual([]);
      expect(await getTimeline(dynamo.doc, tables, 'INC-20260209-001')).toEqual([]);

      const retry = await openOrJoinIncident(dynamo.doc, tables, alarm());

      // The crashed call's id is burned (unique and increasing, not gap-free).
      expect(retry).toMatchObject({ joined: false, recovered: false, openedNow: true, incident: { id: 'INC-20260209-002', status: 'OPEN' } });
      expect((await getTimeline(dynamo.doc, tables, retry.incident.id)).map((e) => e.type)).toEqual(['incident_opened']);
    });

    it('counts what the caller gives it with the opening, in the same transaction, and never for a join', async () => {
      const count = (id: string) => [{ Update: { TableName: tables.breakers, Key: { pk: 'GLOBAL' }, UpdateExpression: 'ADD opened :ids', ExpressionAttributeValues: { ':ids': new Set([id]) } } }];
      const opened = (await dynamo.doc.send(new GetCommand({ TableName: tables.breakers, Key: { pk: 'GLOBAL' }, ConsistentRead: true }))).Item;
      expect(opened).toBeUndefined();

      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => openOrJoinIncident(dynamo.doc, tables, { ...alarm({ name: `alarm-${i}`, detectedAt: at('14:15', i) }), withOpening: count })));

      expect(results.filter((r) => r.openedNow)).toHaveLength(1);
      const item = (await dynamo.doc.send(new GetCommand({ TableName: tables.breakers, Key: { pk: 'GLOBAL' }, ConsistentRead: true }))).Item;
      expect([...(item?.opened as Set<string>)]).toEqual([results.find((r) => r.openedNow)!.incident.id]);
    });

    it('completes, on the retry of its opener, an incident whose key an earlier version wrote before dying', async () => {
      const id = await keyLeftByDeadOpener();
      await expect(getIncident(dynamo.doc, tables, id)).rejects.toThrow(IncidentNotFoundError);

      const retry = await openOrJoinIncident(dynamo.doc, tables, alarm());

      expect(retry).toMatchObject({ joined: false, recovered: true, openedNow: false });
      expect(retry.incident.id).toBe('INC-20260209-001');
      expect(await getIncident(dynamo.doc, tables, 'INC-20260209-001')).toEqual(retry.incident);
      expect((await getTimeline(dynamo.doc, tables, retry.incident.id)).map((e) => e.type)).toEqual(['incident_opened']);
      // No second id was drawn: the next one is 002.
      expect(await nextIncidentId(dynamo.doc, tables, at('15:00'))).toBe('INC-20260209-002');
    });

    it('lets another alarm complete an incident whose opener died, and join it', async () => {
      await keyLeftByDeadOpener();

      const other = await openOrJoinIncident(dynamo.doc, tables, alarm({ name: 'trading-api-5xx', detectedAt: at('14:17') }));

      expect(other).toMatchObject({ joined: true, recovered: true, incident: { id: 'INC-20260209-001', status: 'OPEN' } });
      expect((await getTimeline(dynamo.doc, tables, 'INC-20260209-001')).map((e) => e.type)).toEqual(['incident_opened', 'alarm_joined']);
    });

    it('opens a new incident for an alarm after the previous one was resolved', async () => {
      const first = await openOrJoinIncident(dynamo.doc, tables, alarm());
      await transitionIncident(dynamo.doc, tables, first.incident.id, 'RESOLVED', at('14:38'));

      const next = await openOrJoinIncident(dynamo.doc, tables, alarm({ detectedAt: at('15:02'), anomalyStartedAt: at('15:00') }));

      expect(next.joined).toBe(false);
      expect(next.incident.id).toBe('INC-20260209-002');
      expect(await findOpenIncident(dynamo.doc, tables, 'api-latency', 'trading-api')).toEqual(next.incident);
      expect((await getIncident(dynamo.doc, tables, first.incident.id)).status).toBe('RESOLVED');
    });

    it('clears an open key left behind by a resolution that died before releasing it, and opens a new incident', async () => {
      const first = await openOrJoinIncident(dynamo.doc, tables, alarm());
      await expect(
        transitionIncident(crashingDoc((c) => c instanceof DeleteCommand), tables, first.incident.id, 'RESOLVED', at('14:38')),
      ).rejects.toThrow('simulated crash');
      expect(await rawItem('OPEN#api-latency#trading-api', 'OPEN')).toBeDefined();

      const next = await openOrJoinIncident(dynamo.doc, tables, alarm({ detectedAt: at('15:02') }));

      expect(next).toMatchObject({ joined: false, incident: { id: 'INC-20260209-002', status: 'OPEN' } });
      expect((await getTimeline(dynamo.doc, tables, first.incident.id)).map((e) => e.type)).toEqual(['incident_opened', 'status_changed']);
    });

    describe('a host that has seen the key before (alarm storm)', () => {
      /** One host's client: its own hints, and a log of the commands it sends. */
      function host(): { doc: DynamoDBDocumentClient; sent: string[] } {
        const sent: string[] = [];
        const doc = {
          send: (command: { constructor: { name: string } }) => {
            sent.push(command.constructor.name);
            return dynamo.doc.send(command as PutCommand);
          },
        } as unknown as DynamoDBDocumentClient;
        return { doc, sent };
      }

      it('joins a new alarm in two calls: the conditional write that adds it (and returns the incident), then its event', async () => {
        const a = host();
        const first = await openOrJoinIncident(a.doc, tables, alarm());
        a.sent.length = 0;

        const joined = await openOrJoinIncident(a.doc, tables, alarm({ name: 'trading-api-5xx', detectedAt: at('14:16') }));

        expect(a.sent).toEqual(['UpdateCommand', 'PutCommand']);
        expect(joined).toMatchObject({ incident: { id: first.incident.id }, joined: true, recovered: false });
        expect(joined.incident.alarms).toEqual({
          'trading-api-p99-latency': { firstAt: at('14:15'), lastAt: at('14:15'), fired: 1 },
          'trading-api-5xx': { firstAt: at('14:16'), lastAt: at('14:16'), fired: 1 },
        });
        expect((await getTimeline(dynamo.doc, tables, first.incident.id)).map((e) => e.type)).toEqual(['incident_opened', 'alarm_joined']);
      });

      it('counts an alarm firing again in one write, with no timeline event', async () => {
        const a = host();
        const first = await openOrJoinIncident(a.doc, tables, alarm());
        await openOrJoinIncident(a.doc, tables, alarm({ name: 'trading-api-5xx', detectedAt: at('14:16') }));
        a.sent.length = 0;

        for (const minute of ['14:20', '14:25', '14:30']) await openOrJoinIncident(a.doc, tables, alarm({ detectedAt: at(minute) }));
        const again = await openOrJoinIncident(a.doc, tables, alarm({ name: 'trading-api-5xx', detectedAt: at('14:31') }));

        expect(a.sent).toEqual(['UpdateCommand', 'UpdateCommand', 'UpdateCommand', 'UpdateCommand']);
        expect(again).toMatchObject({ joined: true, incident: { id: first.incident.id } });
        expect(again.incident.alarms).toEqual({
          'trading-api-p99-latency': { firstAt: at('14:15'), lastAt: at('14:30'), fired: 4 },
          'trading-api-5xx': { firstAt: at('14:16'), lastAt: at('14:31'), fired: 2 },
        });
        expect((await getTimeline(dynamo.doc, tables, first.incident.id)).map((e) => e.type)).toEqual(['incident_opened', 'alarm_joined']);
      });

      it('counts neither a redelivered nor an older state change of a known alarm, and still reports the join', async () => {
        const a = host();
        const first = await openOrJoinIncident(a.doc, tables, alarm());
        await openOrJoinIncident(a.doc, tables, alarm({ detectedAt: at('14:20') }));

        const redelivered = await openOrJoinIncident(a.doc, tables, alarm({ detectedAt: at('14:20') }));
        const older = await openOrJoinIncident(host().doc, tables, alarm({ detectedAt: at('14:18') }));

        for (const r of [redelivered, older]) expect(r).toMatchObject({ joined: true, incident: { id: first.incident.id } });
        expect((await getIncident(dynamo.doc, tables, first.incident.id)).alarms).toEqual({ 'trading-api-p99-latency': { firstAt: at('14:15'), lastAt: at('14:20'), fired: 2 } });
      });

      it('counts 50 concurrent deliveries of one state change, from two hosts, once', async () => {
        const first = await openOrJoinIncident(dynamo.doc, tables, alarm());
        const hosts = [host(), host()];

        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => openOrJoinIncident(hosts[i % 2]!.doc, tables, alarm({ detectedAt: at('14:16') }))));

        expect(results.every((r) => r.joined && r.incident.id === first.incident.id)).toBe(true);
        expect((await getIncident(dynamo.doc, tables, first.incident.id)).alarms).toEqual({ 'trading-api-p99-latency': { firstAt: at('14:15'), lastAt: at('14:16'), fired: 2 } });
      });

      it('counts every successive firing once across hosts', async () => {
        const first = await openOrJoinIncident(dynamo.doc, tables, alarm());
        const hosts = [host(), host(), host()];

        for (let i = 1; i <= 20; i += 1) await openOrJoinIncident(hosts[i % 3]!.doc, tables, alarm({ detectedAt: at('14:16', i) }));

        expect((await getIncident(dynamo.doc, tables, first.incident.id)).alarms).toEqual({ 'trading-api-p99-latency': { firstAt: at('14:15'), lastAt: at('14:16', 20), fired: 21 } });
      });

      it('records the join event of an alarm whose incident appears between its two conditional writes', async () => {
        // An earlier version's opener reserved the key and died before writing the incident item.
        await keyLeftByDeadOpener();
        let updates = 0;
        const racing = {
          send: async (command: unknown) => {
            // Between the joiner's first and second write, the opener's retry completes the incident.
            if (command instanceof UpdateCommand && (updates += 1) === 2) await openOrJoinIncident(dynamo.doc, tables, alarm());
            return dynamo.doc.send(command as PutCommand);
          },
        } as unknown as DynamoDBDocumentClient;

        const joined = await openOrJoinIncident(racing, tables, alarm({ name: 'trading-api-5xx', detectedAt: at('14:16') }));

        expect(joined).toMatchObject({ joined: true, incident: { id: 'INC-20260209-001' } });
        expect((await getTimeline(dynamo.doc, tables, 'INC-20260209-001')).map((e) => e.type)).toEqual(['incident_opened', 'alarm_joined']);
        expect(Object.keys((await getIncident(dynamo.doc, tables, 'INC-20260209-001')).alarms ?? {})).toEqual(expect.arrayContaining(['trading-api-p99-latency', 'trading-api-5xx']));
      });

      it('joins an incident written before alarms were counted (no alarms map): adds the map, then the alarm', async () => {
        const first = await openOrJoinIncident(dynamo.doc, tables, alarm());
        const old = await rawItem(first.incident.id, 'INCIDENT');
        delete old!.alarms;
        await dynamo.doc.send(new PutCommand({ TableName: tables.incidents, Item: old }));

        const joined = await openOrJoinIncident(host().doc, tables, alarm({ name: 'trading-api-5xx', detectedAt: at('14:16') }));
        const again = await openOrJoinIncident(host().doc, tables, alarm({ name: 'trading-api-5xx', detectedAt: at('14:17') }));

        expect(joined).toMatchObject({ joined: true, incident: { id: first.incident.id } });
        expect(again.incident.alarms).toEqual({ 'trading-api-5xx': { firstAt: at('14:16'), lastAt: at('14:17'), fired: 2 } });
        expect((await getTimeline(dynamo.doc, tables, first.incident.id)).map((e) => e.type)).toEqual(['incident_opened', 'alarm_joined']);
      });

      it('joins in three calls on a cold host: the key, then the same two', async () => {
        await openOrJoinIncident(host().doc, tables, alarm());
        const b = host();

        await openOrJoinIncident(b.doc, tables, alarm({ name: 'trading-api-5xx', detectedAt: at('14:16') }));

        expect(b.sent).toEqual(['GetCommand', 'UpdateCommand', 'PutCommand']);
      });

      it('opens a new incident when another host resolved the one it remembers, without touching the old one', async () => {
        const a = host();
        const first = await openOrJoinIncident(a.doc, tables, alarm());
        await transitionIncident(host().doc, tables, first.incident.id, 'RESOLVED', at('14:38'));

        const next = await openOrJoinIncident(a.doc, tables, alarm({ name: 'trading-api-5xx', detectedAt: at('15:02') }));

        expect(next).toMatchObject({ joined: false, incident: { id: 'INC-20260209-002', status: 'OPEN' } });
        expect((await getTimeline(dynamo.doc, tables, first.incident.id)).map((e) => e.type)).toEqual(['incident_opened', 'status_changed']);
        // And it remembers the new one: the next alarm joins it in two calls.
        a.sent.length = 0;
        expect(await openOrJoinIncident(a.doc, tables, alarm({ name: 'trading-api-p50', detectedAt: at('15:03') }))).toMatchObject({ joined: true, incident: { id: 'INC-20260209-002' } });
        expect(a.sent).toHaveLength(2);
      });

      it('still treats a redelivery of the opening alarm as the opener', async () => {
        const a = host();
        const first = await openOrJoinIncident(a.doc, tables, alarm());

        expect(await openOrJoinIncident(a.doc, tables, alarm())).toEqual({ incident: first.incident, joined: false, recovered: false, openedNow: false });
        expect((await getTimeline(dynamo.doc, tables, first.incident.id)).map((e) => e.type)).toEqual(['incident_opened']);
      });

      it('says a firing is a likely repeat only for an alarm this host has seen on the open incident of that key and table', async () => {
        // prepare
        const a = host();
        const b = host();
        const likely = (doc: DynamoDBDocumentClient, name: string, service = 'trading-api', t: Tables = tables) => isLikelyRepeat(doc, t, 'api-latency', service, name);
        expect(likely(a.doc, 'trading-api-p99-latency')).toBe(false);
        // act
        await openOrJoinIncident(a.doc, tables, alarm());
        await openOrJoinIncident(b.doc, tables, alarm({ name: 'trading-api-5xx', detectedAt: at('14:16') }));
        a.sent.length = 0;
        // assess
        expect(likely(a.doc, 'trading-api-p99-latency')).toBe(true);
        expect(likely(a.doc, 'trading-api-5xx')).toBe(false); // joined on host b, never seen by a
        expect(likely(b.doc, 'trading-api-5xx')).toBe(true);
        expect(likely(b.doc, 'trading-api-p99-latency')).toBe(true); // b read the incident (opened by it) when it joined
        expect(likely(a.doc, 'trading-api-p99-latency', 'matching-engine')).toBe(false);
        expect(likely(a.doc, 'trading-api-p99-latency', 'trading-api', { ...tables, incidents: `${tables.incidents}-other` })).toBe(false);
        expect(a.sent).toEqual([]); // a hint: no I/O
      });

      it('keeps hints per table: the same key in another table is opened there, not joined across', async () => {
        const a = host();
        const first = await openOrJoinIncident(a.doc, tables, alarm());
        const other = { incidents: `${tables.incidents}-other`, breakers: tables.breakers };
        await createTables(dynamo.client, other);

        const there = await openOrJoinIncident(a.doc, other, alarm({ name: 'trading-api-5xx', detectedAt: at('14:16') }));

        expect(there.joined).toBe(false);
        expect(await getTimeline(dynamo.doc, tables, first.incident.id)).toHaveLength(1);
      });
    });

    it('keeps joining an escalated incident (humans are on it)', async () => {
      const first = await openOrJoinIncident(dynamo.doc, tables, alarm());
      await transitionIncident(dynamo.doc, tables, first.incident.id, 'ESCALATED', at('14:30'));

      const later = await openOrJoinIncident(dynamo.doc, tables, alarm({ name: 'again', detectedAt: at('14:31') }));

      expect(later).toMatchObject({ joined: true, incident: { id: first.incident.id, status: 'ESCALATED' } });
    });
  });

  describe('Function: transitionIncident', () => {
    it('walks OPEN → MITIGATING → AWAITING_APPROVAL → MITIGATING → RESOLVED and stamps each milestone once', async () => {
      const { incident } = await openOrJoinIncident(dynamo.doc, tables, alarm());

      await transitionIncident(dynamo.doc, tables, incident.id, 'MITIGATING', at('14:16'));
      await transitionIncident(dynamo.doc, tables, incident.id, 'AWAITING_APPROVAL', at('14:17'), { step: 'rollback', reason: 'approval sent to @john' });
      await transitionIncident(dynamo.doc, tables, incident.id, 'MITIGATING', at('14:19'), { actor: 'john' });
      const resolved = await transitionIncident(dynamo.doc, tables, incident.id, 'RESOLVED', at('14:38'));

      expect(resolved.status).toBe('RESOLVED');
      // investigatedAt is the investigation's (markInvestigated), never a status change's.
      expect(resolved.timestamps).toEqual({
        anomalyStartedAt: at('14:00'),
        detectedAt: at('14:15'),
        mitigatedAt: at('14:38'),
        resolvedAt: at('14:38'),
      });
      const changes = (await getTimeline(dynamo.doc, tables, incident.id)).filter((e) => e.type === 'status_changed');
      expect(changes.map((e) => e.summary)).toEqual([
        'OPEN → MITIGATING',
        'MITIGATING → AWAITING_APPROVAL: approval sent to @john',
        'AWAITING_APPROVAL → MITIGATING',
        'MITIGATING → RESOLVED',
      ]);
      expect(changes[1]).toMatchObject({ step: 'rollback', before: { status: 'MITIGATING' }, after: { status: 'AWAITING_APPROVAL' } });
      expect(changes[2]?.actor).toBe('john');
      expect(await rawItem('OPEN#api-latency#trading-api', 'OPEN')).toBeUndefined();
    });

    it('keeps the mitigatedAt recorded by markMitigated when the incident is resolved later', async () => {
      const { incident } = await openOrJoinIncident(dynamo.doc, tables, alarm());
      await transitionIncident(dynamo.doc, tables, incident.id, 'MITIGATING', at('14:16'));

      await markMitigated(dynamo.doc, tables, incident.id, at('14:25'), { step: 'rollback' });
      const resolved = await transitionIncident(dynamo.doc, tables, incident.id, 'RESOLVED', at('14:38'));

      expect(resolved.timestamps.mitigatedAt).toBe(at('14:25'));
      expect(resolved.timestamps.resolvedAt).toBe(at('14:38'));
    });

    it.each([
      ['OPEN', 'AWAITING_APPROVAL', []],
      ['RESOLVED', 'MITIGATING', ['RESOLVED']],
      ['FAILED', 'RESOLVED', ['FAILED']],
      ['ESCALATED', 'MITIGATING', ['ESCALATED']],
    ] as const)('refuses %s → %s with InvalidTransitionError naming the id and both statuses', async (from, to, path) => {
      const { incident } = await openOrJoinIncident(dynamo.doc, tables, alarm());
      for (const step of path) await transitionIncident(dynamo.doc, tables, incident.id, step, at('14:20'));

      const attempt = transitionIncident(dynamo.doc, tables, incident.id, to, at('14:30'));

      await expect(attempt).rejects.toThrow(InvalidTransitionError);
      await expect(attempt).rejects.toThrow(`incident ${incident.id} cannot move from ${from} to ${to}`);
      await expect(attempt).rejects.toMatchObject({ name: 'InvalidTransitionError', incidentId: incident.id, from, to });
      expect((await getIncident(dynamo.doc, tables, incident.id)).status).toBe(from);
    });

    it('lets exactly one of two concurrent final transitions win', async () => {
      const { incident } = await openOrJoinIncident(dynamo.doc, tables, alarm());
      await transitionIncident(dynamo.doc, tables, incident.id, 'MITIGATING', at('14:16'));

      const outcomes = await Promise.allSettled([
        transitionIncident(dynamo.doc, tables, incident.id, 'RESOLVED', at('14:38')),
        transitionIncident(dynamo.doc, tables, incident.id, 'FAILED', at('14:38')),
      ]);

      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const refused = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(refused?.reason).toBeInstanceOf(InvalidTransitionError);
      const changes = (await getTimeline(dynamo.doc, tables, incident.id)).filter((e) => e.type === 'status_changed');
      expect(changes).toHaveLength(2);
    });

    it('recordInvestigation sets investigatedAt to the completion (over the MITIGATING fallback), once, with its event', async () => {
      const { incident } = await openOrJoinIncident(dynamo.doc, tables, alarm());
      await transitionIfStatus(dynamo.doc, tables, incident.id, 'OPEN', 'MITIGATING', at('14:15'));

      const first = await recordInvestigation(dynamo.doc, tables, incident.id, at('14:16'), { summary: '调查完成: 部署 v2.3.1 后异常开始 (置信度 85%)', data: { investigation: { hypotheses: [] } } });
      const second = await recordInvestigation(dynamo.doc, tables, incident.id, at('14:20'), { summary: 'again', data: {} });

      expect(first?.incident.timestamps.investigatedAt).toBe(at('14:16'));
      expect(first?.event).toMatchObject({ type: 'investigation_completed', at: at('14:16'), summary: '调查完成: 部署 v2.3.1 后异常开始 (置信度 85%)' });
      expect(second).toBeUndefined();
      expect((await getIncident(dynamo.doc, tables, incident.id)).timestamps.investigatedAt).toBe(at('14:16'));
      expect((await getTimeline(dynamo.doc, tables, incident.id)).filter((e) => e.type === 'investigation_completed')).toHaveLength(1);
      await expect(recordInvestigation(dynamo.doc, tables, 'INC-20260209-404', at('14:16'), { summary: 'x', data: {} })).rejects.toThrow(/INC-20260209-404/);
    });

    it('transitionIfStatus moves only from the given status, in one write and its event', async () => {
      const { incident } = await openOrJoinIncident(dynamo.doc, tables, alarm());

      const moved = await transitionIfStatus(dynamo.doc, tables, incident.id, 'OPEN', 'MITIGATING', at('14:16'), { reason: 'playbook started' });
      const again = await transitionIfStatus(dynamo.doc, tables, incident.id, 'OPEN', 'MITIGATING', at('14:17'));

      expect(moved).toMatchObject({ status: 'MITIGATING' });
      expect(moved?.timestamps.investigatedAt).toBeUndefined();
      expect(again).toBeUndefined();
      expect((await getTimeline(dynamo.doc, tables, incident.id)).map((e) => [e.type, e.summary])).toEqual([
        ['incident_opened', expect.any(String)],
        ['status_changed', 'OPEN → MITIGATING: playbook started'],
      ]);
      await expect(transitionIfStatus(dynamo.doc, tables, incident.id, 'RESOLVED', 'MITIGATING', at('14:18'))).rejects.toThrow(InvalidTransitionError);
      await expect(transitionIfStatus(dynamo.doc, tables, 'INC-20260209-404', 'OPEN', 'MITIGATING', at('14:18'))).rejects.toThrow(/INC-20260209-404/);
    });

    it('throws IncidentNotFoundError naming an unknown id', async () => {
      await expect(transitionIncident(dynamo.doc, tables, 'INC-20260209-404', 'RESOLVED', at('14:38'))).rejects.toThrow(
        new IncidentNotFoundError('INC-20260209-404'),
      );
    });
  });

  describe('Function: raiseSeverity', () => {
    const medium = () => openOrJoinIncident(dynamo.doc, tables, alarm({ severity: 'MEDIUM' }));

    it('raises from what is there even when the caller saw an older severity, and never lowers', async () => {
      // prepare
      const { incident } = await medium();
      await raiseSeverity(dynamo.doc, tables, incident.id, 'HIGH', at('14:16'), { reason: 'first' });
      // act: a caller that still believes MEDIUM raises to CRITICAL, another asks for HIGH
      const critical = await raiseSeverity(dynamo.doc, tables, incident.id, 'CRITICAL', at('14:17'), { reason: 'second', from: 'MEDIUM' });
      const high = await raiseSeverity(dynamo.doc, tables, incident.id, 'HIGH', at('14:18'), { reason: 'third' });
      // assess
      expect(critical?.severity).toBe('CRITICAL');
      expect(high).toBeUndefined();
      const raised = (await getTimeline(dynamo.doc, tables, incident.id)).filter((e) => e.type === 'severity_raised');
      expect(raised.map((e) => e.summary)).toEqual(['severity MEDIUM → HIGH: first', 'severity HIGH → CRITICAL: second']);
    });

    it('ends at the worst of concurrent raises, each step on the timeline once', async () => {
      // prepare
      const { incident } = await medium();
      // act
      await Promise.all([
        raiseSeverity(dynamo.doc, tables, incident.id, 'HIGH', at('14:16'), { reason: 'high', from: 'MEDIUM' }),
        raiseSeverity(dynamo.doc, tables, incident.id, 'CRITICAL', at('14:16'), { reason: 'critical', from: 'MEDIUM' }),
        raiseSeverity(dynamo.doc, tables, incident.id, 'HIGH', at('14:16'), { reason: 'high again', from: 'MEDIUM' }),
      ]);
      // assess
      expect((await getIncident(dynamo.doc, tables, incident.id)).severity).toBe('CRITICAL');
      const steps = (await getTimeline(dynamo.doc, tables, incident.id)).filter((e) => e.type === 'severity_raised').map((e) => `${String((e.before as { severity?: string }).severity)}→${String((e.after as { severity?: string }).severity)}`);
      expect([['MEDIUM→CRITICAL'], ['MEDIUM→HIGH', 'HIGH→CRITICAL']]).toContainEqual(steps);
    });

    it('leaves a resolved incident alone, and names a missing one', async () => {
      const { incident } = await medium();
      await transitionIncident(dynamo.doc, tables, incident.id, 'RESOLVED', at('14:20'));

      expect(await raiseSeverity(dynamo.doc, tables, incident.id, 'CRITICAL', at('14:21'), { reason: 'late alarm', from: 'MEDIUM' })).toBeUndefined();
      expect((await getIncident(dynamo.doc, tables, incident.id)).severity).toBe('MEDIUM');
      await expect(raiseSeverity(dynamo.doc, tables, 'INC-20260209-999', 'HIGH', at('14:21'), { reason: 'x' })).rejects.toThrow(IncidentNotFoundError);
    });
  });

  describe('Function: beginExecution', () => {
    const ARN = 'arn:aws:states:us-east-1:123456789012:execution:api-latency:INC-20260209-001';
    const HASH = 'a'.repeat(64);
    const begin = (overrides: Partial<Parameters<typeof beginExecution>[2]> = {}) =>
      beginExecution(dynamo.doc, tables, { id: 'INC-20260209-001', playbook: 'api-latency', service: 'trading-api', severity: 'HIGH', alarmName: 'trading-api-p99-latency', alarmReason: 'Threshold crossed', playbookHash: HASH, executionArn: ARN, at: at('14:16'), options: { reason: 'playbook api-latency started' }, ...overrides });
    const opened = async () => {
      const { incident } = await openOrJoinIncident(dynamo.doc, tables, alarm());
      await attachExecution(dynamo.doc, tables, incident.id, ARN, at('14:15', 30));
      return incident;
    };

    it('pins the version and moves OPEN → MITIGATING with its event, in one transaction', async () => {
      const incident = await opened();

      expect(await begin()).toBe(true);

      expect(await getIncident(dynamo.doc, tables, incident.id)).toMatchObject({ status: 'MITIGATING', playbookHash: HASH, executionArn: ARN, timestamps: { investigatedAt: at('14:16') } });
      const timeline = await getTimeline(dynamo.doc, tables, incident.id);
      expect(timeline.map((e) => [e.type, e.seq])).toEqual([['incident_opened', 0], ['execution_started', 2], ['status_changed', 1]]);
      expect(timeline[2]).toMatchObject({ summary: 'OPEN → MITIGATING: playbook api-latency started', before: { status: 'OPEN' }, after: { status: 'MITIGATING' } });
      // The kept number is used once: the counter goes on from where it was.
      expect((await appendEvent(dynamo.doc, tables, incident.id, { at: at('14:17'), type: 'metric_read', summary: 'read' })).seq).toBe(3);
    });

    it('attaches the execution when the intake has not yet; the intake then writes its event, once', async () => {
      const { incident } = await openOrJoinIncident(dynamo.doc, tables, alarm());

      expect(await begin()).toBe(true);
      expect((await getIncident(dynamo.doc, tables, incident.id)).executionArn).toBe(ARN);
      await attachExecution(dynamo.doc, tables, incident.id, ARN, at('14:16', 10));
      await attachExecution(dynamo.doc, tables, incident.id, ARN, at('14:16', 20));

      expect((await getTimeline(dynamo.doc, tables, incident.id)).map((e) => e.type)).toEqual(['incident_opened', 'status_changed', 'execution_started']);
      await expect(attachExecution(dynamo.doc, tables, incident.id, `${ARN}-other`, at('14:17'))).rejects.toThrow(IncidentError);
    });

    type Case = [string, () => Promise<void>, Partial<Parameters<typeof beginExecution>[2]>?];
    it.each<Case>([
      ['a second start (redelivered)', async (): Promise<void> => void (await begin())],
      ['another execution attached', async (): Promise<void> => undefined, { executionArn: `${ARN}-other` }],
      ['a severity raised by a join', async (): Promise<void> => void (await raiseSeverity(dynamo.doc, tables, 'INC-20260209-001', 'CRITICAL', at('14:15', 40), { reason: 'declared' }))],
      ['another alarm than the one stored', async (): Promise<void> => undefined, { alarmName: 'trading-api-5xx' }],
      ['another service than the one stored', async (): Promise<void> => undefined, { service: 'wallet-api' }],
      ['a status moved by hand', async (): Promise<void> => void (await transitionIncident(dynamo.doc, tables, 'INC-20260209-001', 'ESCALATED', at('14:15', 40)))],
    ])('writes nothing and says so for %s', async (_case, before, overrides = {}) => {
      await opened();
      await before();
      const item = await rawItem('INC-20260209-001', 'INCIDENT');
      const events = await getTimeline(dynamo.doc, tables, 'INC-20260209-001');

      expect(await begin(overrides)).toBe(false);

      expect(await rawItem('INC-20260209-001', 'INCIDENT')).toEqual(item);
      expect(await getTimeline(dynamo.doc, tables, 'INC-20260209-001')).toEqual(events);
    });

    it('leaves an incident written by an earlier version (no kept sequence number) to the step-by-step path', async () => {
      await keyLeftByDeadOpener();
      const { incident } = await openOrJoinIncident(dynamo.doc, tables, alarm());
      const item = await rawItem(incident.id, 'INCIDENT');
      delete item!.startSeq;
      await dynamo.doc.send(new PutCommand({ TableName: tables.incidents, Item: { ...item, eventSeq: 0, executionArn: ARN } }));

      expect(await begin()).toBe(false);
      expect((await getIncident(dynamo.doc, tables, incident.id)).status).toBe('OPEN');
    });
  });

  describe('Function: appendEvent and getTimeline', () => {
    it('returns the timeline ordered by time, then by sequence number for equal times', async () => {
      const { incident } = await openOrJoinIncident(dynamo.doc, tables, alarm());

      await appendEvent(dynamo.doc, tables, incident.id, { at: at('14:17'), type: 'risk_assessed', summary: 'risk MEDIUM (0.55)' });
      await appendEvent(dynamo.doc, tables, incident.id, { at: at('14:16'), type: 'root_cause', summary: 'deploy v2.3.1' });
      await appendEvent(dynamo.doc, tables, incident.id, { at: at('14:17'), type: 'approval_requested', actor: 'agent', summary: 'asked @john' });
      await appendEvent(dynamo.doc, tables, incident.id, {
        at: new Date(at('14:20')),
        type: 'action_started',
        step: 'rollback',
        summary: 'rollback v2.3.1 → v2.3.0',
        before: { image: 'v2.3.1' },
        after: { image: 'v2.3.0' },
        data: { deployment: 'trading-api', ignored: undefined },
      });
      const timeline = await getTimeline(dynamo.doc, tables, incident.id);

      expect(timeline.map((e) => [e.at.slice(11, 16), e.seq, e.type])).toEqual([
        // 1 is kept for the status change of the execution's first start (beginExecution).
        ['14:15', 0, 'incident_opened'],
        ['14:16', 3, 'root_cause'],
        ['14:17', 2, 'risk_assessed'],
        ['14:17', 4, 'approval_requested'],
        ['14:20', 5, 'action_started'],
      ]);
      expect(timeline[4]).toEqual({
        incidentId: incident.id,
        at: at('14:20'),
        seq: 5,
        type: 'action_started',
        step: 'rollback',
        summary: 'rollback v2.3.1 → v2.3.0',
        before: { image: 'v2.3.1' },
        after: { image: 'v2.3.0' },
        data: { deployment: 'trading-api' },
      });
    });

    it('gives 100 concurrent appends 100 distinct sequence numbers', async () => {
      const { incident } = await openOrJoinIncident(dynamo.doc, tables, alarm());

      const events = await Promise.all(
        Array.from({ length: 100 }, (_, i) => appendEvent(dynamo.doc, tables, incident.id, { at: at('14:20'), type: 'metric_read', summary: `read ${i}` })),
      );

      expect(new Set(events.map((e) => e.seq)).size).toBe(100);
      expect(await getTimeline(dynamo.doc, tables, incident.id)).toHaveLength(101);
    });

    it('appendEvents writes many events in order with consecutive sequence numbers, past one batch of 25', async () => {
      const { incident } = await openOrJoinIncident(dynamo.doc, tables, alarm());
      const events = Array.from({ length: 30 }, (_, i) => ({ at: at('14:20'), type: 'notification_sent', summary: `channel ${i}` }));

      const written = await appendEvents(dynamo.doc, tables, incident.id, events);

      expect(written.map((e) => e.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 2));
      const timeline = await getTimeline(dynamo.doc, tables, incident.id);
      expect(timeline.map((e) => e.summary)).toEqual([expect.stringContaining('incident opened'), ...events.map((e) => e.summary)]);
      await expect(appendEvents(dynamo.doc, tables, 'INC-20260209-404', events)).rejects.toThrow(IncidentNotFoundError);
      expect(await appendEvents(dynamo.doc, tables, incident.id, [])).toEqual([]);
    });

    it('refuses an event for an unknown incident without creating it', async () => {
      await expect(appendEvent(dynamo.doc, tables, 'INC-20260209-404', { at: at('14:20'), type: 'x', summary: 'x' })).rejects.toThrow(
        'incident INC-20260209-404 not found',
      );
      expect(await rawItem('INC-20260209-404', 'INCIDENT')).toBeUndefined();
    });
  });

  describe('Function: attachExecution', () => {
    it('records the execution once, accepts the same ARN again and refuses another', async () => {
      const { incident } = await openOrJoinIncident(dynamo.doc, tables, alarm());
      const arn = `arn:aws:states:us-east-1:123456789012:execution:api-latency:${incident.id}`;

      const attached = await attachExecution(dynamo.doc, tables, incident.id, arn, at('14:15', 2));
      const again = await attachExecution(dynamo.doc, tables, incident.id, arn, at('14:15', 3));

      expect(attached.executionArn).toBe(arn);
      expect(again).toEqual(attached);
      await expect(attachExecution(dynamo.doc, tables, incident.id, `${arn}-2`, at('14:16'))).rejects.toThrow(IncidentError);
      expect((await getTimeline(dynamo.doc, tables, incident.id)).filter((e) => e.type === 'execution_started')).toHaveLength(1);
    });
  });

  describe('Function: listIncidents', () => {
    it('lists newest first, filters by status and honours the limit', async () => {
      const a = await openOrJoinIncident(dynamo.doc, tables, alarm({ service: 'a', detectedAt: at('10:00') }));
      const b = await openOrJoinIncident(dynamo.doc, tables, alarm({ service: 'b', detectedAt: at('11:00') }));
      const c = await openOrJoinIncident(dynamo.doc, tables, alarm({ service: 'c', detectedAt: at('12:00') }));
      await transitionIncident(dynamo.doc, tables, b.incident.id, 'RESOLVED', at('11:30'));

      expect((await listIncidents(dynamo.doc, tables)).map((i) => i.id)).toEqual([c.incident.id, b.incident.id, a.incident.id]);
      expect((await listIncidents(dynamo.doc, tables, { status: 'OPEN' })).map((i) => i.id)).toEqual([c.incident.id, a.incident.id]);
      expect((await listIncidents(dynamo.doc, tables, { status: 'RESOLVED' })).map((i) => i.id)).toEqual([b.incident.id]);
      expect((await listIncidents(dynamo.doc, tables, { limit: 1 })).map((i) => i.id)).toEqual([c.incident.id]);
    });
  });

  describe('Function: incidentMetrics', () => {
    it('reproduces the seed §5.1 report: MTTD 15 min, MTTI 1 min, MTTR 23 min', async () => {
      const { incident } = await openOrJoinIncident(dynamo.doc, tables, alarm({ detectedAt: at('14:15'), anomalyStartedAt: at('14:00') }));
      await transitionIncident(dynamo.doc, tables, incident.id, 'MITIGATING', at('14:15'));
      await markInvestigated(dynamo.doc, tables, incident.id, at('14:16'));
      await markInvestigated(dynamo.doc, tables, incident.id, at('14:30')); // once: the first completion counts
      await transitionIncident(dynamo.doc, tables, incident.id, 'AWAITING_APPROVAL', at('14:17'));
      await transitionIncident(dynamo.doc, tables, incident.id, 'MITIGATING', at('14:19'));
      const resolved = await transitionIncident(dynamo.doc, tables, incident.id, 'RESOLVED', at('14:38'));

      expect(incidentMetrics(resolved)).toEqual({ mttdSeconds: 15 * 60, mttiSeconds: 60, mttrSeconds: 23 * 60 });
    });

    it('leaves MTTI and MTTR undefined while the incident is still open', async () => {
      const { incident } = await openOrJoinIncident(dynamo.doc, tables, alarm());

      expect(incidentMetrics(incident)).toEqual({ mttdSeconds: 900, mttiSeconds: undefined, mttrSeconds: undefined });
    });
  });
});
