/**
 * The local outbox: on by default in local mode, it keeps every notification a channel without
 * configuration would have sent (e-mail with each person's signed links, Slack, PagerDuty, phone,
 * SNS), so a newcomer sees what the agent says and can use its approval links. Channels that
 * are configured still send; the outbox takes only the others. The dashboard, `GET /api/outbox`
 * and `sre-agent outbox` show it.
 *
 * One entry per message as the channel would deliver it: e-mail is one message per person with
 * only that person's links (as lib/notify sends it), the other channels one message to
 * their audience and never personal links. Kept in memory, and in `<data-dir>/outbox.jsonl`
 * (0600) when the engine has a data folder, so it survives a restart.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { plainText, type Channel, type ChannelOutcome, type Notification, type Notifier, type Recipient } from '../notify';

export interface OutboxEntry {
  /** `OUT-000001`, in the order kept. */
  readonly id: string;
  readonly at: string;
  readonly channel: Channel;
  /** approval_request, approval_escalated, incident_escalated, breaker_changed, alert... */
  readonly kind: string;
  readonly incidentId: string;
  readonly title: string;
  /** The message as the channel would carry it (e-mail: the plain-text body with the person's own links). */
  readonly text: string;
  /** Who it is addressed to (`name (role)`); empty for a channel's own audience. */
  readonly to: readonly string[];
  /** The signed approve/reject links of the one person an e-mail is for. */
  readonly links?: readonly { readonly person: string; readonly role: string; readonly approveUrl: string; readonly rejectUrl: string }[];
  readonly step?: string;
  readonly level?: number;
}

export interface OutboxQuery {
  readonly incidentId?: string;
  readonly channel?: Channel;
  /** Newest first, at most this many. @default 200 */
  readonly limit?: number;
}

/** Most entries kept in memory; the file keeps everything. */
const MEMORY_LIMIT = 5000;

export class Outbox {
  private readonly entries: OutboxEntry[] = [];
  private next = 1;

  /**
   * @param file JSON-lines file to append to and reload from; none keeps the outbox in memory only
   * @param warn told of each line of the file that cannot be read back (default: a process warning)
   */
  public constructor(
    private readonly file?: string,
    warn: (message: string) => void = (m) => process.emitWarning(m),
  ) {
    if (file && existsSync(file)) {
      for (const [i, line] of readFileSync(file, 'utf8').split('\n').entries()) {
        if (!line.trim()) continue;
        try {
          this.remember(JSON.parse(line) as OutboxEntry);
        } catch (err) {
          // A torn last line (the process was killed mid-write) is skipped, and said.
          warn(`${file}:${i + 1}: unreadable outbox entry skipped (${(err as Error).message})`);
        }
      }
    }
  }

  /** The outbox of a data folder (`<dir>/outbox.jsonl`), or an in-memory one. */
  public static forDataDir(dataDir: string | undefined): Outbox {
    return new Outbox(dataDir ? path.join(dataDir, 'outbox.jsonl') : undefined);
  }

  /** Keeps what `channel` would have sent of `n`; returns the entries, one per message. */
  public keep(n: Notification, channel: Channel): OutboxEntry[] {
    const at = (n.at ?? new Date()).toISOString();
    const recipients = n.recipients ?? [];
    const base = { at, channel, kind: n.kind, incidentId: n.incidentId, title: n.title, ...(n.step ? { step: n.step } : {}), ...(n.level ? { level: n.level } : {}) };
    const label = (rs: readonly Recipient[]) => [...new Set(rs.map((r) => `${r.person.name} (${r.role})`))];
    const kept: OutboxEntry[] = [];
    if (channel === 'email' && recipients.length > 0) {
      // As the e-mail channel sends it: one message per person, with only their own links.
      const byPerson = new Map<string, Recipient[]>();
      for (const r of recipients) byPerson.set(r.person.email ?? r.person.name, [...(byPerson.get(r.person.email ?? r.person.name) ?? []), r]);
      for (const rs of byPerson.values()) {
        const links = rs.filter((r) => r.links).map((r) => ({ person: r.person.name, role: r.role, approveUrl: r.links!.approveUrl, rejectUrl: r.links!.rejectUrl }));
        kept.push(this.add({ ...base, text: plainText(n, rs, recipients), to: label(rs), ...(links.length ? { links } : {}) }));
      }
    } else {
      // Shared channels (Slack, PagerDuty, SNS) never carry personal links.
      kept.push(this.add({ ...base, text: plainText(n, [], recipients), to: label(recipients) }));
    }
    return kept;
  }

  public list(q: OutboxQuery = {}): OutboxEntry[] {
    const limit = Math.max(1, Math.min(q.limit ?? 200, MEMORY_LIMIT));
    const out: OutboxEntry[] = [];
    for (let i = this.entries.length - 1; i >= 0 && out.length < limit; i -= 1) {
      const e = this.entries[i]!;
      if ((q.incidentId && e.incidentId !== q.incidentId) || (q.channel && e.channel !== q.channel)) continue;
      out.push(e);
    }
    return out;
  }

  public get(id: string): OutboxEntry | undefined {
    return this.entries.find((e) => e.id === id);
  }

  private add(entry: Omit<OutboxEntry, 'id'>): OutboxEntry {
    const full: OutboxEntry = { id: `OUT-${String(this.next).padStart(6, '0')}`, ...entry };
    if (this.file) appendFileSync(this.file, `${JSON.stringify(full)}\n`, { mode: 0o600 });
    this.remember(full);
    return full;
  }

  private remember(e: OutboxEntry): void {
    this.entries.push(e);
    if (this.entries.length > MEMORY_LIMIT) this.entries.shift();
    const n = Number(/^OUT-(\d+)$/.exec(e.id)?.[1] ?? 0);
    if (n >= this.next) this.next = n + 1;
  }
}

/**
 * A notifier that sends on the channels `inner` has configured and keeps the rest in `outbox`.
 * A kept message is an outcome that succeeded ("kept in the local outbox (OUT-000001)"), not a
 * failure, and the timeline says where it went, not that a channel is missing.
 */
export function withOutbox(inner: Notifier | undefined, outbox: Outbox): Notifier {
  const configured = new Set(inner?.configured ?? []);
  return {
    configured: [...new Set([...configured, 'pagerduty', 'phone', 'slack', 'email', 'sns'] as Channel[])],
    async send(n) {
      const channels = [...new Set(n.channels)];
      const sent = channels.filter((c) => configured.has(c));
      const outcomes: ChannelOutcome[] = sent.length && inner ? await inner.send({ ...n, channels: sent }) : [];
      for (const channel of channels.filter((c) => !configured.has(c))) {
        for (const e of outbox.keep(n, channel)) {
          outcomes.push({ channel, ok: true, detail: `kept in the local outbox (${e.id})`, ...(e.to.length ? { person: e.to.map((t) => t.replace(/ \(.*\)$/, '')).join(', ') } : {}) });
        }
      }
      return outcomes;
    },
  };
}
