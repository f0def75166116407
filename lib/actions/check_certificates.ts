/** check_certificates: list TLS certificates that expire soon (scenario 7, daily). */
import * as z from '../yaml/zod';
import { durationText, requireTarget } from './common';
import { defineAction } from './define';
import { TargetNotConfiguredError } from './errors';
import type { CertificateOps } from './ports';

/** Seed scenario 7: an IAM access key last rotated more than this many days ago is reported. */
export const ACCESS_KEY_MAX_AGE_DAYS = 90;

const DAY = 86400;
function days(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|min|m|h|d)$/.exec(text);
  const unit = { ms: 0.001, s: 1, min: 60, m: 60, h: 3600, d: DAY }[m![2] as 'd'];
  return (Number(m![1]) * unit) / DAY;
}

export const action = defineAction({
  name: 'check_certificates',
  description: 'Find certificates (Kubernetes TLS secrets, ALB/ACM, external domains) expiring within the thresholds.',
  kind: 'diagnostic',
  mutates: false,
  defaultRisk: 'LOW',
  params: z.strictObject({
    sources: z.array(z.enum(['kubernetes_secrets', 'alb_certificates', 'external_domains'])).check(z.minLength(1)),
    warning_threshold: z._default(durationText, '30d'),
    critical_threshold: z._default(durationText, '7d'),
  }),
  outputs: ['expiring_certs', 'cert_name', 'days_remaining', 'days', 'stale_access_keys', 'unchecked_sources', 'unreadable_certificates'],
  uses: ['certificates'],
  iamActions: ['acm:ListCertificates', 'acm:DescribeCertificate', 'eks:DescribeCluster', 'iam:ListUsers', 'iam:ListAccessKeys', 'iam:GetAccessKeyLastUsed'],
  checkCaps: (p) => (days(p.critical_threshold) < days(p.warning_threshold) ? [] : ['critical_threshold must be shorter than warning_threshold']),
  async run(p, ctx) {
    const certs = requireTarget<CertificateOps>(ctx, 'certificates', 'check_certificates');
    const unchecked = p.sources.filter((s) => !certs.sources.includes(s));
    if (unchecked.length === p.sources.length) {
      throw new TargetNotConfiguredError(`check_certificates: none of ${p.sources.join(', ')} is configured for step "${ctx.step}" of ${ctx.incidentId}`);
    }
    const now = ctx.now().getTime();
    const { certificates, unreadable } = await certs.list(p.sources);
    const expiring = certificates
      .map((c) => ({ ...c, days_remaining: Math.floor((Date.parse(c.notAfter) - now) / (DAY * 1000)) }))
      .filter((c) => c.days_remaining < days(p.warning_threshold))
      .map((c) => ({ ...c, level: c.days_remaining < days(p.critical_threshold) ? 'CRITICAL' : 'WARNING' }))
      .sort((a, b) => a.days_remaining - b.days_remaining);
    const keys = (await certs.accessKeys?.()) ?? [];
    const stale = keys
      .map((k) => ({ user: k.user, access_key_id: k.accessKeyId, age_days: Math.floor((now - Date.parse(k.createdAt)) / (DAY * 1000)), last_used: k.lastUsedAt ?? null }))
      .filter((k) => k.age_days > ACCESS_KEY_MAX_AGE_DAYS)
      .sort((a, b) => b.age_days - a.age_days);
    const first = expiring[0];
    const parts = [expiring.length ? `${expiring.length} certificate(s) expire within ${p.warning_threshold}; soonest ${first!.name} in ${first!.days_remaining} d` : `no certificate expires within ${p.warning_threshold}`];
    if (stale.length) parts.push(`${stale.length} IAM access key(s) older than ${ACCESS_KEY_MAX_AGE_DAYS} d (oldest ${stale[0]!.user} ${stale[0]!.access_key_id}, ${stale[0]!.age_days} d)`);
    if (unreadable.length) parts.push(`could not read ${unreadable.map((u) => `${u.name} (${u.error})`).join(', ')}`);
    if (unchecked.length) parts.push(`not checked (not configured): ${unchecked.join(', ')}`);
    return {
      summary: parts.join('; '),
      outputs: { expiring_certs: expiring, cert_name: first?.name ?? null, days_remaining: first?.days_remaining ?? null, days: first?.days_remaining ?? null, stale_access_keys: stale, unchecked_sources: unchecked, unreadable_certificates: unreadable },
    };
  },
});
