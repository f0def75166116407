/** Text shared by the channels: truncation, names, one-line errors, the plain-text body (e-mail, SNS, the local outbox). */
import type { Notification, Recipient } from './types';

export const truncate = (s: string, max: number): string => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);
export const names = (rs: readonly Recipient[]): string | undefined => [...new Set(rs.map((r) => r.person.name))].join(', ') || undefined;

/** An error as one line: fetch's "fetch failed" carries the reason (ECONNREFUSED...) in `cause`. */
export function errorText(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return `${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message}${cause && !e.message.includes(cause) ? ` (${cause})` : ''}`;
}

export function detailLines(details: Readonly<Record<string, unknown>>): string[] {
  return Object.entries(details).flatMap(([k, v]) => {
    if (v === undefined || v === null) return [];
    if (typeof v === 'object' && !Array.isArray(v)) return [`${k}:`, ...Object.entries(v as Record<string, unknown>).map(([kk, vv]) => `  - ${kk}: ${typeof vv === 'string' ? vv : JSON.stringify(vv)}`)];
    return [`${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`];
  });
}

/** The plain-text e-mail/SNS body: the message, the facts, and the links of `linksOf` (one person's, or everyone's). */
export function plainText(n: Notification, linksOf: readonly Recipient[], all: readonly Recipient[] = linksOf): string {
  const facts = [
    `Incident: ${n.incidentId}`,
    `Severity: ${n.severity}`,
    n.service && `Service: ${n.service}`,
    n.playbook && `Playbook: ${n.playbook}`,
    n.step && `Step: ${n.step}`,
    n.level && `Level: L${n.level}`,
    n.risk && `Risk: ${n.risk}`,
  ].filter(Boolean);
  const lines = [n.title, '', n.message.trim(), '', ...facts];
  if (all.length) lines.push(`To: ${[...new Set(all.map((r) => `${r.person.name} (${r.role})`))].join(', ')}`);
  if (n.details && Object.keys(n.details).length) lines.push('', ...detailLines(n.details));
  const personal = linksOf.filter((r) => r.links);
  if (personal.length) {
    lines.push('', 'Decide (each link opens a confirmation page; nothing happens until you confirm there):');
    for (const r of personal) lines.push(`  Approve as ${r.person.name} (${r.role}): ${r.links!.approveUrl}`, `  Reject as ${r.person.name} (${r.role}): ${r.links!.rejectUrl}`);
  }
  if (n.links?.length) lines.push('', ...n.links.map((l) => `${l.text ?? 'Link'}: ${l.href}`));
  return lines.join('\n');
}
