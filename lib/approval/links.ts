/**
 * Signed approve/reject links. A link names an approval by its opaque id (never the task token,
 * which is not URL-safe and would let anyone holding the mail answer the execution directly),
 * the person and the role they decide for, the decision and the expiry, and carries an
 * HMAC-SHA256 over all of these. Whether the role may decide is checked against the approval
 * record when the link is used (decideApproval), not trusted from the link.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from '../yaml/zod';
import { ApprovalError, type ApprovalRecord } from './store';

/** What a link asks for. */
export type LinkDecision = 'approve' | 'reject';

/** Why a link was refused before any record was read. */
export type ApprovalLinkFailure = 'tampered' | 'expired' | 'malformed';

/** A link that does not verify. `reason` says which way; the message names the approval id when it could be read. */
export class ApprovalLinkError extends ApprovalError {
  public constructor(
    public readonly reason: ApprovalLinkFailure,
    message: string,
    /** The approval id the link claims, when it is well-formed (used to record the refusal on the incident). */
    public readonly approvalId?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ApprovalLinkError';
  }
}

/**
 * Supplies the HMAC key bytes (at least {@link MIN_KEY_BYTES}). Providers cache the key: call it
 * per request.
 */
export type SigningKey = () => Promise<Buffer>;

/** Shortest key accepted: 32 bytes, the HMAC-SHA256 block output size. */
export const MIN_KEY_BYTES = 32;

/** The claims of a verified link. */
export interface VerifiedApprovalLink {
  readonly approvalId: string;
  readonly person: string;
  readonly role: string;
  readonly decision: LinkDecision;
  /** Epoch milliseconds after which the link no longer works (the record's `expiresAt`). */
  readonly expires: number;
}

/** The query parameters of a link (plus `id`, which travels in the path `/approvals/{id}`). */
export type ApprovalLinkQuery = Readonly<Record<string, string | undefined>>;

const SIGNATURE_VERSION = 'sre-agent-approval-link-v1';

const linkSchema = z.object({
  id: z.string().check(z.regex(/^[A-Za-z0-9-]{1,64}$/, 'is not an approval id')),
  person: z.string().check(z.minLength(1), z.maxLength(200)),
  role: z.string().check(z.minLength(1), z.maxLength(100)),
  decision: z.enum(['approve', 'reject']),
  expires: z.string().check(z.regex(/^\d{1,15}$/, 'is not epoch milliseconds')),
  // 32 bytes of HMAC-SHA256 in unpadded base64url.
  sig: z.string().check(z.regex(/^[A-Za-z0-9_-]{43}$/, 'is not a base64url HMAC-SHA256')),
});

async function keyBytes(key: SigningKey): Promise<Buffer> {
  const bytes = await key();
  if (bytes.length < MIN_KEY_BYTES) throw new ApprovalError(`approval signing key has ${bytes.length} bytes; at least ${MIN_KEY_BYTES} are needed (regenerate the secret or the key file)`);
  return bytes;
}

function mac(key: Buffer, claims: VerifiedApprovalLink): Buffer {
  // A JSON array is an unambiguous encoding: no field can run into the next.
  const payload = JSON.stringify([SIGNATURE_VERSION, claims.approvalId, claims.person, claims.role, claims.decision, String(claims.expires)]);
  return createHmac('sha256', key).update(payload, 'utf8').digest();
}

/** Signs one link. Lower level than {@link buildApprovalLinks}: it does not check the role against a record. */
export async function signApprovalLink(baseUrl: string, claims: VerifiedApprovalLink, key: SigningKey): Promise<string> {
  const sig = mac(await keyBytes(key), claims).toString('base64url');
  const query = new URLSearchParams({ person: claims.person, role: claims.role, decision: claims.decision, expires: String(claims.expires), sig });
  return `${baseUrl.replace(/\/+$/, '')}/approvals/${encodeURIComponent(claims.approvalId)}?${query.toString()}`;
}

/**
 * The approve and reject links of one person deciding one approval for one role. They expire
 * with the record (`expiresAt`), carry its id and never its task token.
 *
 * @param baseUrl where the approval pages are served (the HTTP API's URL, or the local server's)
 * @throws ApprovalError when `role` is not one of the record's approvers (a link that could only be refused)
 * @example
 * const { approveUrl, rejectUrl } = await buildApprovalLinks(process.env.APPROVAL_BASE_URL!, record, 'john', 'oncall_sre', key);
 */
export async function buildApprovalLinks(baseUrl: string, record: ApprovalRecord, person: string, role: string, key: SigningKey): Promise<{ approveUrl: string; rejectUrl: string }> {
  if (!record.approvers.includes(role)) throw new ApprovalError(`role "${role}" is not an approver of step "${record.step}" of ${record.incidentId} (approvers: ${record.approvers.join(', ')}); no link for ${person}`);
  const expires = Date.parse(record.expiresAt);
  if (!Number.isFinite(expires)) throw new ApprovalError(`approval ${record.approvalId} has no valid expiresAt (${record.expiresAt})`);
  const claims = { approvalId: record.approvalId, person, role, expires };
  return {
    approveUrl: await signApprovalLink(baseUrl, { ...claims, decision: 'approve' }, key),
    rejectUrl: await signApprovalLink(baseUrl, { ...claims, decision: 'reject' }, key),
  };
}

/**
 * Checks a link's signature (in constant time) and expiry.
 *
 * @param query the link's query parameters with `id` from the path
 * @throws ApprovalLinkError with reason 'malformed' (a parameter missing or ill-formed),
 *   'tampered' (the signature does not match: a field was changed, or another key signed it)
 *   or 'expired' (`expires` is past; checked after the signature, so a forged expiry is 'tampered')
 */
export async function verifyApprovalLink(query: ApprovalLinkQuery, key: SigningKey, now: Date): Promise<VerifiedApprovalLink> {
  const parsed = linkSchema.safeParse(query);
  const claimedId = typeof query.id === 'string' && /^[A-Za-z0-9-]{1,64}$/.test(query.id) ? query.id : undefined;
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'link'} ${i.message}`).join('; ');
    throw new ApprovalLinkError('malformed', `approval link${claimedId ? ` for ${claimedId}` : ''} is malformed: ${problems}`, claimedId);
  }
  const q = parsed.data;
  const claims: VerifiedApprovalLink = { approvalId: q.id, person: q.person, role: q.role, decision: q.decision, expires: Number(q.expires) };
  const given = Buffer.from(q.sig, 'base64url');
  const expected = mac(await keyBytes(key), claims);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new ApprovalLinkError('tampered', `approval link for ${q.id} has a signature that does not match its fields: it was altered or not issued by this agent`, q.id);
  }
  if (claims.expires <= now.getTime()) {
    throw new ApprovalLinkError('expired', `approval link for ${q.id} expired at ${new Date(claims.expires).toISOString()}`, q.id);
  }
  return claims;
}

/** Caches a provider's first successful answer; a failure is not cached (the next call tries again). */
function cached(load: () => Promise<Buffer>): SigningKey {
  let pending: Promise<Buffer> | undefined;
  return () => {
    pending ??= load().catch((err: unknown) => {
      pending = undefined;
      throw err;
    });
    return pending;
  };
}

/**
 * A key kept in a file (local mode): 32 random bytes written with mode 0600 on first use, read
 * afterwards. Refuses a file that others may read.
 *
 * @param file e.g. `<data dir>/approval-signing.key`
 */
export function localKeyFile(file: string): SigningKey {
  return cached(async () => {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, randomBytes(MIN_KEY_BYTES), { mode: 0o600, flag: 'wx' });
      // The umask may have narrowed the mode further, never widened it; make it exact anyway.
      chmodSync(file, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0) {
      throw new ApprovalError(`approval signing key ${file} is readable by other users; run chmod 600 ${file}`);
    }
    return readFileSync(file);
  });
}

/** A random key that lives as long as the process (an engine running in memory). */
export function inMemoryKey(): SigningKey {
  const key = randomBytes(MIN_KEY_BYTES);
  return async () => key;
}

/**
 * A key from AWS Secrets Manager (SecretString as UTF-8 bytes, or SecretBinary), fetched once
 * per cold start. Rotating the secret invalidates every outstanding link once the functions
 * restart.
 *
 * @param secretId name or ARN (the functions get it as SIGNING_SECRET_ID)
 */
export function secretsManagerKey(client: Pick<SecretsManagerClient, 'send'>, secretId: string): SigningKey {
  return cached(async () => {
    // The SDK package is loaded when the key is first needed, not at cold start.
    const { GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (out.SecretString !== undefined) return Buffer.from(out.SecretString, 'utf8');
    if (out.SecretBinary !== undefined) return Buffer.from(out.SecretBinary);
    throw new ApprovalError(`secret ${secretId} has neither SecretString nor SecretBinary`);
  });
}
