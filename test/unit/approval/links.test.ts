/** Signed approval links: HMAC round trip, every way a link is refused, key providers (no network: Secrets Manager is mocked). */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { ApprovalLinkError, buildApprovalLinks, inMemoryKey, localKeyFile, secretsManagerKey, signApprovalLink, verifyApprovalLink, type SigningKey } from '../../../lib/approval/links';
import { ApprovalError, type ApprovalRecord } from '../../../lib/approval/store';

const NOW = new Date('2026-02-09T14:17:00.000Z');
const KEY: SigningKey = async () => Buffer.alloc(32, 7);
const OTHER_KEY: SigningKey = async () => Buffer.alloc(32, 8);
// Shaped like a real one: 1-2048 characters, not URL-safe.
const TASK_TOKEN = 'AQB8AAAAKgAAAAMAAAAAAAAAAd+/x9Z2kz0l+vFj3Q==' + 'x'.repeat(200);

const RECORD: ApprovalRecord = {
  approvalId: '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b',
  incidentId: 'INC-20260209-001',
  step: 'rollback_matching_engine',
  action: 'kubectl_rollout_undo',
  level: 2,
  approvers: ['oncall_sre', 'matching_engine_owner'],
  minApprovals: 2,
  status: 'PENDING',
  decisions: [],
  createdAt: '2026-02-09T14:17:00.000Z',
  expiresAt: '2026-02-09T14:27:00.000Z',
  taskToken: TASK_TOKEN,
  message: 'roll back matching-engine v2.3.1 → v2.3.0',
};

/** The query a link's page receives: its parameters plus `id` from the path. */
function queryOf(url: string): Record<string, string> {
  const u = new URL(url);
  const id = decodeURIComponent(u.pathname.split('/').at(-1) ?? '');
  return { ...Object.fromEntries(u.searchParams), id };
}

async function refusal(query: Record<string, string | undefined>, key = KEY, now = NOW): Promise<ApprovalLinkError> {
  try {
    await verifyApprovalLink(query, key, now);
  } catch (err) {
    if (err instanceof ApprovalLinkError) return err;
    throw err;
  }
  throw new Error('the link verified');
}

describe('approval links', () => {
  describe('Function: buildApprovalLinks', () => {
    it('builds approve and reject links that verify to the approval id, person, role and decision', async () => {
      // WHEN
      const { approveUrl, rejectUrl } = await buildApprovalLinks('https://abc.execute-api.eu-west-1.amazonaws.com/', RECORD, 'john', 'oncall_sre', KEY);
      // THEN
      expect(approveUrl.startsWith(`https://abc.execute-api.eu-west-1.amazonaws.com/approvals/${RECORD.approvalId}?`)).toBe(true);
      await expect(verifyApprovalLink(queryOf(approveUrl), KEY, NOW)).resolves.toEqual({
        approvalId: RECORD.approvalId,
        person: 'john',
        role: 'oncall_sre',
        decision: 'approve',
        expires: Date.parse(RECORD.expiresAt),
      });
      await expect(verifyApprovalLink(queryOf(rejectUrl), KEY, NOW)).resolves.toMatchObject({ decision: 'reject' });
    });

    it('never puts the task token, or any part of it, in a link', async () => {
      // WHEN
      const links = await buildApprovalLinks('http://127.0.0.1:8787', RECORD, 'john', 'oncall_sre', KEY);
      // THEN
      for (const url of [links.approveUrl, links.rejectUrl]) {
        const decoded = decodeURIComponent(url);
        expect(decoded).not.toContain(TASK_TOKEN);
        expect(decoded).not.toContain(TASK_TOKEN.slice(0, 24));
        expect(Object.keys(queryOf(url)).sort()).toEqual(['decision', 'expires', 'id', 'person', 'role', 'sig']);
      }
    });

    it('keeps people and roles with URL-special characters intact', async () => {
      // GIVEN
      const record = { ...RECORD, approvers: ['team lead&co'] };
      // WHEN
      const { approveUrl } = await buildApprovalLinks('http://127.0.0.1:8787', record, 'Zoë <zoe@example.com>', 'team lead&co', KEY);
      // THEN
      await expect(verifyApprovalLink(queryOf(approveUrl), KEY, NOW)).resolves.toMatchObject({ person: 'Zoë <zoe@example.com>', role: 'team lead&co' });
    });

    it('refuses to build a link for a role that is not an approver of the step', async () => {
      await expect(buildApprovalLinks('http://x', RECORD, 'mallory', 'dba', KEY)).rejects.toThrow(
        new ApprovalError('role "dba" is not an approver of step "rollback_matching_engine" of INC-20260209-001 (approvers: oncall_sre, matching_engine_owner); no link for mallory'),
      );
    });

    it('refuses a key shorter than 32 bytes', async () => {
      await expect(buildApprovalLinks('http://x', RECORD, 'john', 'oncall_sre', async () => Buffer.alloc(16))).rejects.toThrow('approval signing key has 16 bytes; at least 32 are needed');
    });
  });

  describe('Function: verifyApprovalLink', () => {
    it.each([
      ['id', 'aaaaaaaa-4d5e-4f60-8a7b-9c0d1e2f3a4b'],
      ['person', 'mallory'],
      ['role', 'matching_engine_owner'],
      ['decision', 'reject'],
      ['expires', String(Date.parse(RECORD.expiresAt) + 3_600_000)],
    ])('refuses a link whose %s was changed as tampered', async (field, value) => {
      // GIVEN
      const query = queryOf((await buildApprovalLinks('http://x', RECORD, 'john', 'oncall_sre', KEY)).approveUrl);
      // WHEN
      const err = await refusal({ ...query, [field]: value });
      // THEN
      expect(err.reason).toBe('tampered');
      expect(err.approvalId).toBe(field === 'id' ? value : RECORD.approvalId);
      expect(err.message).toMatch(/signature that does not match its fields/);
    });

    it('refuses a changed signature, and one made with another key, as tampered', async () => {
      // GIVEN
      const query = queryOf((await buildApprovalLinks('http://x', RECORD, 'john', 'oncall_sre', KEY)).approveUrl);
      const flipped = (query.sig!.startsWith('A') ? 'B' : 'A') + query.sig!.slice(1);
      // WHEN / THEN
      expect((await refusal({ ...query, sig: flipped })).reason).toBe('tampered');
      expect((await refusal(query, OTHER_KEY)).reason).toBe('tampered');
    });

    it('refuses a link at and after its expiry as expired', async () => {
      // GIVEN
      const query = queryOf((await buildApprovalLinks('http://x', RECORD, 'john', 'oncall_sre', KEY)).approveUrl);
      // WHEN
      const atExpiry = await refusal(query, KEY, new Date(RECORD.expiresAt));
      // THEN
      expect(atExpiry.reason).toBe('expired');
      expect(atExpiry.message).toBe(`approval link for ${RECORD.approvalId} expired at ${RECORD.expiresAt}`);
      await expect(verifyApprovalLink(query, KEY, new Date(Date.parse(RECORD.expiresAt) - 1))).resolves.toMatchObject({ person: 'john' });
    });

    it('checks the signature before the expiry: an extended expiry is tampered, not valid', async () => {
      // GIVEN a link that expired, its expiry pushed forward
      const query = queryOf((await buildApprovalLinks('http://x', RECORD, 'john', 'oncall_sre', KEY)).approveUrl);
      const later = new Date(Date.parse(RECORD.expiresAt) + 60_000);
      // WHEN / THEN
      expect((await refusal({ ...query, expires: String(later.getTime() + 60_000) }, KEY, later)).reason).toBe('tampered');
    });

    it.each([
      ['without a signature', { sig: undefined }],
      ['without an id', { id: undefined }],
      ['with a decision other than approve or reject', { decision: 'maybe' }],
      ['with an expiry that is not a number', { expires: '2026-02-09T14:27:00Z' }],
      ['with a signature of the wrong length', { sig: 'abc' }],
      ['with a signature that is not base64url', { sig: `${'+'.repeat(42)}=` }],
      ['with an id that is not an approval id', { id: '../../etc/passwd' }],
    ])('refuses a link %s as malformed', async (_name, change) => {
      // GIVEN
      const query = queryOf((await buildApprovalLinks('http://x', RECORD, 'john', 'oncall_sre', KEY)).approveUrl);
      // WHEN
      const err = await refusal({ ...query, ...change });
      // THEN
      expect(err.reason).toBe('malformed');
      expect(err).toBeInstanceOf(ApprovalError);
      expect(err.name).toBe('ApprovalLinkError');
    });

    it('verifies a link signed by signApprovalLink with the claims given', async () => {
      // GIVEN a link for a role the record does not list (only the record check at decision time refuses it)
      const url = await signApprovalLink('http://x/', { approvalId: RECORD.approvalId, person: 'eve', role: 'dba', decision: 'approve', expires: NOW.getTime() + 1000 }, KEY);
      // WHEN / THEN
      await expect(verifyApprovalLink(queryOf(url), KEY, NOW)).resolves.toMatchObject({ role: 'dba' });
    });
  });

  describe('key providers', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'sre-agent-key-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('localKeyFile creates a 32-byte key file with mode 0600 on first use and reads the same key afterwards', async () => {
      // GIVEN
      const file = path.join(dir, 'data', 'approval-signing.key');
      // WHEN
      const first = await localKeyFile(file)();
      const again = await localKeyFile(file)();
      // THEN
      expect(first).toHaveLength(32);
      expect(again.equals(first)).toBe(true);
      expect(readFileSync(file).equals(first)).toBe(true);
      if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);
    });

    (process.platform === 'win32' ? it.skip : it)('localKeyFile refuses a key file that other users may read', async () => {
      // GIVEN
      const file = path.join(dir, 'approval-signing.key');
      writeFileSync(file, Buffer.alloc(32, 1), { mode: 0o644 });
      chmodSync(file, 0o644); // whatever the process umask is
      // WHEN / THEN
      await expect(localKeyFile(file)()).rejects.toThrow(`approval signing key ${file} is readable by other users; run chmod 600 ${file}`);
    });

    it('inMemoryKey gives the same 32 random bytes for its lifetime, and another instance other bytes', async () => {
      const key = inMemoryKey();
      expect((await key()).equals(await key())).toBe(true);
      expect((await key()).equals(await inMemoryKey()())).toBe(false);
    });

    describe('secretsManagerKey', () => {
      const sm = mockClient(SecretsManagerClient);
      beforeEach(() => sm.reset());

      it('reads the secret once per cold start', async () => {
        // GIVEN
        sm.on(GetSecretValueCommand, { SecretId: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:sk' }).resolves({ SecretString: 'k'.repeat(64) });
        const key = secretsManagerKey(new SecretsManagerClient({ region: 'eu-west-1' }), 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:sk');
        // WHEN
        const a = await key();
        const b = await key();
        // THEN
        expect(a.toString('utf8')).toBe('k'.repeat(64));
        expect(b).toBe(a);
        expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
      });

      it('tries again after a failed read instead of caching the failure', async () => {
        // GIVEN
        sm.on(GetSecretValueCommand).rejectsOnce(new Error('throttled')).resolves({ SecretBinary: new Uint8Array(32).fill(3) });
        const key = secretsManagerKey(new SecretsManagerClient({ region: 'eu-west-1' }), 'sk');
        // WHEN / THEN
        await expect(key()).rejects.toThrow('throttled');
        await expect(key()).resolves.toEqual(Buffer.alloc(32, 3));
        expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
      });
    });
  });
});
