/**
 * Notifier credentials (PagerDuty routing and API keys, the Slack webhook URL): Secrets Manager
 * in AWS, plain values from the environment locally. Never logged, never put on a timeline.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretError } from './errors';

/** A credential: a literal value (local configuration), or the name/ARN of a Secrets Manager secret. */
export type Secret = { readonly value: string } | { readonly secretId: string; /** Key inside a JSON secret. */ readonly jsonKey?: string };

/** Reads a secret's string by id; undefined when the secret does not exist. */
export type SecretReader = (secretId: string) => Promise<string | undefined>;

/**
 * Secrets Manager reads, cached per warm Lambda so that a burst of notifications makes one
 * GetSecretValue call per secret. The SDK package is loaded at the first read, not at import: a
 * function that never reads a secret does not pay for it at cold start.
 */
export function secretsManagerReader(client: Pick<SecretsManagerClient, 'send'>, options: { /** @default 300 */ readonly ttlSeconds?: number; now?(): number } = {}): SecretReader {
  const ttl = (options.ttlSeconds ?? 300) * 1000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { until: number; value: Promise<string | undefined> }>();
  return (secretId) => {
    const hit = cache.get(secretId);
    if (hit && hit.until > now()) return hit.value;
    const value = import('@aws-sdk/client-secrets-manager').then(({ GetSecretValueCommand, ResourceNotFoundException }) =>
      client.send(new GetSecretValueCommand({ SecretId: secretId })).then(
        (out) => out.SecretString,
        (err: unknown) => {
          cache.delete(secretId);
          if (err instanceof ResourceNotFoundException || (err as { name?: string }).name === 'ResourceNotFoundException') return undefined;
          throw err;
        },
      ),
    );
    cache.set(secretId, { until: now() + ttl, value });
    return value;
  };
}

/** The value of a credential; undefined when it is not set or its secret does not exist. */
export async function readSecret(secret: Secret | undefined, reader: SecretReader | undefined): Promise<string | undefined> {
  if (!secret) return undefined;
  if ('value' in secret) return secret.value || undefined;
  if (!reader) throw new SecretError(`secret ${secret.secretId} cannot be read: no secret reader configured`, secret.secretId);
  const raw = await reader(secret.secretId);
  if (raw === undefined || !secret.jsonKey) return raw || undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new SecretError(`secret ${secret.secretId} is not JSON (expected key "${secret.jsonKey}")`, secret.secretId);
  }
  const v = (parsed as Record<string, unknown> | null)?.[secret.jsonKey];
  return typeof v === 'string' && v ? v : undefined;
}

/** How a credential is named in messages: the secret id, never the value. */
export function describeSecret(secret: Secret): string {
  return 'value' in secret ? 'inline value' : `secret ${secret.secretId}${secret.jsonKey ? `#${secret.jsonKey}` : ''}`;
}
