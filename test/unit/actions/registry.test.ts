/** The action registry: one file per action, named after it, declaring what the rest of the system reads. */
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { ACTIONS, findAction } from '../../../lib/actions';
import { actionContext } from '../../helpers/action-context';
import { loadPolicy } from '../../../lib/policy/files';

const DIR = path.join(__dirname, '../../../lib/actions');
const ENTRIES = path.join(__dirname, '../../../lambdas/actions');
const NOT_ACTIONS = new Set(['index.ts', 'define.ts', 'errors.ts', 'common.ts', 'ports.ts', 'dispatch.ts', 'resolve.ts', 'kubernetes.ts', 'quantity.ts', 'json-file.ts']);
const actionFiles = readdirSync(DIR).filter((f) => f.endsWith('.ts') && !NOT_ACTIONS.has(f));

describe('action registry', () => {
  it.each(actionFiles)('%s is registered under its file name', async (file) => {
    const mod = (await import(path.join(DIR, file))) as { action?: { name: string } };
    const name = file.replace(/\.ts$/, '');
    expect(mod.action?.name).toBe(name);
    expect(findAction(name)).toBe(mod.action);
  });

  it('lists no action without a file', () => {
    expect(Object.keys(ACTIONS).sort()).toEqual(actionFiles.map((f) => f.replace(/\.ts$/, '')).sort());
  });

  it.each(Object.values(ACTIONS).map((a) => [a.name, a]))('%s declares kind, mutation, risk, IAM and a timeout', (_n, a) => {
    expect(['diagnostic', 'notification', 'ticket', 'remediation']).toContain(a.kind);
    expect(typeof a.mutates).toBe('boolean');
    expect(Array.isArray(a.iamActions)).toBe(true);
    expect(a.timeoutSeconds).toBeGreaterThan(0);
    if (a.kind !== 'remediation') expect(a.mutates).toBe(false);
  });

  it.each(Object.values(ACTIONS).filter((a) => a.blacklist).map((a) => [a.name, a]))('blacklisted %s refuses to run even when invoked directly', async (_n, a) => {
    const ctx = actionContext({ incidentId: 'INC-20260101-001', step: 's', policy: loadPolicy() });
    await expect(a.run({}, ctx)).rejects.toMatchObject({ name: 'PolicyViolationError', category: a.blacklist });
    expect(a.iamActions).toEqual([]);
  });

  it.each(Object.values(ACTIONS).filter((a) => !a.blacklist).map((a) => [a.name, a]))('%s has a Lambda entry that wires exactly the targets it declares', async (name, a) => {
    const entry = (await import(path.join(ENTRIES, `${name}.ts`))) as { handler?: { action: string; targets: readonly string[] } };
    expect(entry.handler?.action).toBe(name);
    expect([...(entry.handler?.targets ?? [])].sort()).toEqual([...a.uses].sort());
  });

  it('has an entry for every action that gets a function, and for no other', () => {
    const entries = readdirSync(ENTRIES).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, ''));
    expect(entries.sort()).toEqual(Object.values(ACTIONS).filter((a) => !a.blacklist).map((a) => a.name).sort());
  });
});
