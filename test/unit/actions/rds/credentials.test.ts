/** Database credentials from the two RDS secret formats (Secrets Manager), as rds_query reads them in AWS. */
import { InvalidParameterError } from '../../../../lib/actions/errors';
import { mysqlConfigFromSecret } from '../../../../lib/actions/rds/credentials';

describe('mysqlConfigFromSecret', () => {
  it('reads the "credentials for Amazon RDS database" secret, host and port from the secret', () => {
    // prepare: the shape the console writes for an RDS database secret
    const secret = JSON.stringify({ engine: 'mysql', host: 'orders.abc123.eu-west-1.rds.amazonaws.com', port: 3306, username: 'sre_agent', password: 'p@ss:w/rd', dbname: 'orders', dbInstanceIdentifier: 'orders' });
    // act
    const config = mysqlConfigFromSecret(secret, 'sre-agent/rds', 'ignored.example:9999');
    // assess: the secret's own host wins over the configured endpoint
    expect(config).toEqual({ host: 'orders.abc123.eu-west-1.rds.amazonaws.com', port: 3306, user: 'sre_agent', password: 'p@ss:w/rd', database: 'orders' });
  });

  it('reads an RDS-managed master-user secret (username and password only) with the configured endpoint', () => {
    const config = mysqlConfigFromSecret('{"username":"admin","password":"x"}', 'rds!db-1234', 'orders.example:3307');
    expect(config).toEqual({ host: 'orders.example', port: 3307, user: 'admin', password: 'x' });
  });

  it('takes a port written as a string, and 3306 when neither side gives one', () => {
    expect(mysqlConfigFromSecret('{"username":"a","password":"b","host":"h","port":"3310"}', 's').port).toBe(3310);
    expect(mysqlConfigFromSecret('{"username":"a","password":"b"}', 's', 'h').port).toBe(3306);
  });

  it.each([
    ['not JSON', 'username=a', /secret sre-agent\/rds: SecretString is not JSON/],
    ['no username', '{"password":"hunter2"}', /secret sre-agent\/rds: username: /],
    ['a port that is not a number', '{"username":"a","password":"hunter2","host":"h","port":"x"}', /secret sre-agent\/rds: port: /],
    ['no host and no endpoint', '{"username":"a","password":"hunter2"}', /secret sre-agent\/rds has no host and no endpoint is configured \(RDS_ENDPOINT=host:port\)/],
  ])('refuses %s with an error naming the secret and the field, never the password', (_what, secret, message) => {
    // act
    let error: unknown;
    try {
      mysqlConfigFromSecret(secret, 'sre-agent/rds');
    } catch (err) {
      error = err;
    }
    // assess
    expect(error).toBeInstanceOf(InvalidParameterError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('hunter2');
  });
});
