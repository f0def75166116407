/** The embedded DynamoDB: dynalite on its own thread, kept in a folder between runs when given one. *
 * @lane pure (its child process runs dynalite on a port of its own)
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createTables, LOCAL_TABLES, startDynalite } from '../../lib/local/dynalite';

describe('startDynalite', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'sre-agent-dynalite-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps tables and items in its folder across a stop and a start', async () => {
    const first = await startDynalite({ path: dir });
    await createTables(first.client, LOCAL_TABLES);
    await first.doc.send(new PutCommand({ TableName: LOCAL_TABLES.incidents, Item: { pk: 'INC-20260209-001', sk: 'INCIDENT', status: 'OPEN' } }));
    await first.stop();

    const second = await startDynalite({ path: dir });
    try {
      await createTables(second.client, LOCAL_TABLES); // already there: a no-op
      const out = await second.doc.send(new GetCommand({ TableName: LOCAL_TABLES.incidents, Key: { pk: 'INC-20260209-001', sk: 'INCIDENT' }, ConsistentRead: true }));
      expect(out.Item).toEqual({ pk: 'INC-20260209-001', sk: 'INCIDENT', status: 'OPEN' });
    } finally {
      await second.stop();
    }
  });

  it('forgets everything when run in memory', async () => {
    const first = await startDynalite();
    await createTables(first.client, LOCAL_TABLES);
    await first.doc.send(new PutCommand({ TableName: LOCAL_TABLES.incidents, Item: { pk: 'x', sk: 'y' } }));
    await first.stop();

    const second = await startDynalite();
    try {
      await expect(second.doc.send(new GetCommand({ TableName: LOCAL_TABLES.incidents, Key: { pk: 'x', sk: 'y' } }))).rejects.toThrow(/non-existent table|not found/i);
    } finally {
      await second.stop();
    }
  });

  it('names the host and port it could not listen on', async () => {
    const taken = await startDynalite();
    const port = Number(new URL(taken.endpoint).port);
    try {
      await expect(startDynalite({ port })).rejects.toThrow(`dynalite could not listen on 127.0.0.1:${port}`);
    } finally {
      await taken.stop();
    }
  });

  it('keeps a process alive while a request waits for its answer, and lets it end after stop', async () => {
    const script = path.resolve(__dirname, '../fixtures/scripts/dynalite-roundtrip.ts');
    const { stdout } = await promisify(execFile)(process.execPath, [path.resolve(__dirname, '../../bin/run-ts.js'), script], { timeout: 20_000 });

    expect(stdout.trim()).toBe(JSON.stringify({ pk: 'INC-1', sk: 'INCIDENT', status: 'OPEN' }));
  });

  it('rejects a request after stop instead of leaving it waiting', async () => {
    const dynamo = await startDynalite();
    await dynamo.stop();

    await expect(dynamo.doc.send(new GetCommand({ TableName: LOCAL_TABLES.incidents, Key: { pk: 'x', sk: 'y' } }))).rejects.toThrow(/destroyed|stopped/);
  });

  it('refuses requests once stopped, and stopping twice is harmless', async () => {
    const dynamo = await startDynalite();
    const { endpoint } = dynamo;
    await dynamo.stop();
    await dynamo.stop();

    await expect(fetch(endpoint, { method: 'POST' })).rejects.toThrow();
  });
});
