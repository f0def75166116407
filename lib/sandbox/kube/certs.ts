/**
 * Self-signed X.509 certificates for the sandbox's kubernetes.io/tls secrets, written in DER by
 * hand (Node can parse certificates but not issue them), so a scene can hold a certificate that
 * really expires in 20 days and the certificate check reads it as it would a cert-manager secret.
 */
import { generateKeyPairSync, sign } from 'node:crypto';

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
}

const seq = (...parts: Buffer[]) => tlv(0x30, Buffer.concat(parts));

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const bytes = [a * 40 + b];
  for (const n of rest) {
    const chunk: number[] = [];
    let v = n;
    chunk.unshift(v & 0x7f);
    while ((v >>= 7) > 0) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function integer(bytes: Buffer): Buffer {
  // Positive: a leading 0 when the high bit is set.
  return tlv(0x02, (bytes[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

function time(d: Date): Buffer {
  const p = (n: number) => String(n).padStart(2, '0');
  const y = d.getUTCFullYear();
  const body = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  // RFC 5280: UTCTime through 2049, GeneralizedTime from 2050.
  return y < 2050 ? tlv(0x17, Buffer.from(`${p(y % 100)}${body}`)) : tlv(0x18, Buffer.from(`${y}${body}`));
}

function name(cn: string): Buffer {
  return seq(tlv(0x31, seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn, 'utf8')))));
}

export interface IssuedCertificate {
  /** PEM of the certificate (the secret's `tls.crt`). */
  readonly certificate: string;
  /** PKCS#8 PEM of its key (the secret's `tls.key`). */
  readonly key: string;
}

/** A self-signed ECDSA P-256 certificate for `dnsNames`, valid from `notBefore` to `notAfter`. */
export function selfSignedCertificate(options: { commonName: string; dnsNames?: readonly string[]; ipAddresses?: readonly string[]; notBefore: Date; notAfter: Date; ca?: boolean }): IssuedCertificate {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ecdsaSha256 = seq(oid('1.2.840.10045.4.3.2'));
  const serial = Buffer.from(Array.from({ length: 16 }, () => Math.floor(Math.random() * 256)));
  // A positive INTEGER in minimal DER: the first byte neither 0 (padding) nor above 0x7f (sign).
  serial[0] = 0x40 | ((serial[0] as number) & 0x3f);
  const dns = options.dnsNames ?? [options.commonName];
  const ips = (options.ipAddresses ?? []).map((ip) => tlv(0x87, Buffer.from(ip.split('.').map(Number))));
  const san = seq(oid('2.5.29.17'), tlv(0x04, seq(...dns.map((d) => tlv(0x82, Buffer.from(d, 'ascii'))), ...ips)));
  // A serving certificate that is its own CA (the kubeconfig's certificate-authority-data), as kind and minikube issue.
  const extensions = options.ca
    ? [seq(oid('2.5.29.19'), tlv(0x01, Buffer.from([0xff])), tlv(0x04, seq(tlv(0x01, Buffer.from([0xff]))))), seq(oid('2.5.29.15'), tlv(0x01, Buffer.from([0xff])), tlv(0x04, tlv(0x03, Buffer.from([0x02, 0x84])))), san]
    : [san];
  const tbs = seq(
    tlv(0xa0, integer(Buffer.from([2]))),
    integer(serial),
    ecdsaSha256,
    name(options.commonName),
    seq(time(options.notBefore), time(options.notAfter)),
    name(options.commonName),
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, seq(...extensions)),
  );
  const signature = sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  const der = seq(tbs, ecdsaSha256, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
  return { certificate: pem, key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}
