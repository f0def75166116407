/**
 * kafkajs settings for plain brokers and for MSK IAM: the OAUTHBEARER token is really signed
 * (aws-msk-iam-sasl-signer-js, offline with static credentials) and carries what MSK checks.
 */
import { kafkaConfig } from '../../../../lib/actions/kafka/consumer-groups';

const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
let saved: NodeJS.ProcessEnv;

beforeEach(() => {
  saved = { ...process.env };
  Object.assign(process.env, CREDENTIALS);
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
});

afterEach(() => {
  process.env = saved;
});

describe('kafkaConfig', () => {
  it('plain brokers: no SASL, no TLS unless asked, brokers trimmed', async () => {
    const config = await kafkaConfig({ brokers: ' b-1.kafka:9092, b-2.kafka:9092 ,' });
    expect(config.brokers).toEqual(['b-1.kafka:9092', 'b-2.kafka:9092']);
    expect(config.sasl).toBeUndefined();
    expect(config.ssl).toBe(false);
  });

  it('MSK IAM: TLS and an OAUTHBEARER token presigned for kafka-cluster:Connect in the region', async () => {
    // act
    const config = await kafkaConfig({ brokers: 'b-1.msk.eu-west-1.amazonaws.com:9098', mskIamRegion: 'eu-west-1' });
    // assess
    expect(config.ssl).toBe(true);
    expect(config.sasl?.mechanism).toBe('oauthbearer');
    const { value } = await (config.sasl as { oauthBearerProvider: () => Promise<{ value: string }> }).oauthBearerProvider();
    const url = new URL(Buffer.from(value, 'base64url').toString('utf8'));
    expect(url.host).toBe('kafka.eu-west-1.amazonaws.com');
    expect(url.searchParams.get('Action')).toBe('kafka-cluster:Connect');
    expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^AKIAIOSFODNN7EXAMPLE\/\d{8}\/eu-west-1\/kafka-cluster\/aws4_request$/);
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  });
});
