/**
 * Database credentials for rds_query: a Secrets Manager secret in AWS, a URL locally. Both
 * secret formats RDS uses are read: the RDS-managed master-user secret (`{"username","password"}`,
 * the endpoint comes from configuration) and the "credentials for Amazon RDS database" secret
 * (`{"engine","host","port","username","password","dbname","dbInstanceIdentifier"}`).
 */
import * as z from '../../yaml/zod';
import { InvalidParameterError } from '../errors';

/** A port written as digits (`"3306"`), read as the number. */
const portText = z.pipe(z.string().check(z.regex(/^\d+$/)), z.transform(Number));

const secretSchema = z.looseObject({
  username: z.string().check(z.minLength(1)),
  password: z.string(),
  host: z.optional(z.string().check(z.minLength(1))),
  port: z.optional(z.union([z.int().check(z.positive()), portText])),
  dbname: z.optional(z.string().check(z.minLength(1))),
  engine: z.optional(z.string()),
  dbInstanceIdentifier: z.optional(z.string()),
});

/** What mysql2's createPool needs from the secret (plus the TLS settings chosen by the caller). */
export interface MysqlConnectionConfig {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database?: string;
}

/**
 * Connection settings from an RDS secret's SecretString.
 * @param endpoint `host[:port]` for secrets without a host (RDS-managed master-user secrets); the secret's host wins
 * @throws InvalidParameterError naming the secret and the field at fault (never the password)
 * @example mysqlConfigFromSecret('{"username":"agent","password":"…"}', 'sre-agent/rds', 'db.example:3306')
 */
export function mysqlConfigFromSecret(secretString: string, secretId: string, endpoint?: string): MysqlConnectionConfig {
  let json: unknown;
  try {
    json = JSON.parse(secretString);
  } catch {
    throw new InvalidParameterError(`secret ${secretId}: SecretString is not JSON (expected the RDS secret format {"username","password",...})`, { target: secretId });
  }
  const parsed = secretSchema.safeParse(json);
  if (!parsed.success) {
    throw new InvalidParameterError(`secret ${secretId}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(secret)'}: ${i.message}`).join('; ')}`, { target: secretId });
  }
  const s = parsed.data;
  const [endpointHost, endpointPort] = endpoint ? endpoint.split(':') : [];
  const host = s.host ?? endpointHost;
  if (!host) throw new InvalidParameterError(`secret ${secretId} has no host and no endpoint is configured (RDS_ENDPOINT=host:port)`, { target: secretId });
  const port = s.port ?? (endpointPort ? Number(endpointPort) : 3306);
  return { host, port, user: s.username, password: s.password, ...(s.dbname ? { database: s.dbname } : {}) };
}
