/**
 * create_ticket: open a follow-up ticket (scenarios 6 and 7). One ticket per incident and
 * subject; when its templates name the fields of a list output (`{{cert_name}}`,
 * `{{days_remaining}}` of check_certificates' `expiring_certs`), one ticket per item of that
 * list, each at most once while it is open, across daily runs.
 */
import * as z from '../yaml/zod';
import { requireTarget } from './common';
import type { ActionContext } from './define';
import { defineAction } from './define';
import { InvalidParameterError } from './errors';
import type { TicketOps } from './ports';
import { UNAVAILABLE } from './resolve';

const PRIORITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];

/**
 * List outputs whose items a ticket's templates may name, item field → template variable, and
 * the key that makes one item one ticket.
 */
const ITEM_LISTS = {
  expiring_certs: {
    fields: { cert_name: 'name', days_remaining: 'days_remaining', days: 'days_remaining', cert_source: 'source', level: 'level' },
    key: (item: Record<string, unknown>) => `certificate:${String(item.source)}:${String(item.name)}`,
  },
} as const;
const ITEM_VARIABLES = [...new Set(Object.values(ITEM_LISTS).flatMap((l) => Object.keys(l.fields)))];

const params = z.strictObject({
  title: z.string().check(z.minLength(1)),
  priority: z.string().check(z.minLength(1)),
  description: z.optional(z.string()),
  assignee: z.optional(z.string()),
});
type Params = z.infer<typeof params>;

const usesItems = (text: string | undefined) => text !== undefined && ITEM_VARIABLES.some((v) => new RegExp(`\\{\\{[^}]*\\b${v}\\b[^}]*\\}\\}`).test(text));

/** The list a per-item ticket iterates, or undefined when the step that makes it did not run. */
function itemsOf(ctx: ActionContext, list: keyof typeof ITEM_LISTS): Record<string, unknown>[] | undefined {
  try {
    const v = ctx.resolve(`{{${list}}}`);
    return Array.isArray(v) ? (v as Record<string, unknown>[]) : undefined;
  } catch {
    return undefined;
  }
}

function text(ctx: ActionContext, value: string | undefined, locals: Record<string, unknown>): string | undefined {
  if (value === undefined) return undefined;
  try {
    return String(ctx.resolve(value, locals));
  } catch {
    return value.replace(/\{\{[^}]*\}\}/g, UNAVAILABLE);
  }
}

/**
 * A priority the template could not compute (a value it needs is unavailable) is HIGH: a ticket
 * is never quietly under-rated.
 */
function priorityOf(resolved: string | undefined): { priority: string; note?: string } {
  if (resolved === undefined || resolved.includes(UNAVAILABLE)) return { priority: 'HIGH', note: 'priority could not be computed (a value it needs is unavailable): HIGH' };
  if (!PRIORITIES.includes(resolved)) throw new InvalidParameterError(`create_ticket: priority resolved to "${resolved}", not one of ${PRIORITIES.join(', ')}`);
  return { priority: resolved };
}

export const action = defineAction<Params>({
  name: 'create_ticket',
  description: 'Create a ticket with a title, priority (may be a {{template}}), description and assignee; once per incident and subject, or once per item of a list output it names.',
  kind: 'ticket',
  mutates: false,
  defaultRisk: 'LOW',
  params,
  locals: { title: ITEM_VARIABLES, priority: ITEM_VARIABLES, description: ITEM_VARIABLES },
  outputs: ['ticket_id', 'ticket_url', 'ticket_ids'],
  uses: ['tickets'],
  iamActions: ['secretsmanager:GetSecretValue'],
  checkCaps(p) {
    return p.priority.includes('{{') || PRIORITIES.includes(p.priority) ? [] : [`priority "${p.priority}" is not one of ${PRIORITIES.join(', ')}`];
  },
  async run(p, ctx) {
    const perItem = usesItems(p.title) || usesItems(p.priority) || usesItems(p.description);
    const drafts: { title: string; priority: string; description?: string; dedupeKey: string; note?: string }[] = [];
    if (perItem) {
      const items = itemsOf(ctx, 'expiring_certs');
      if (!items) throw new InvalidParameterError(`create_ticket: step "${ctx.step}" names certificate fields but no expiring_certs list is available (did check_certificates run?)`);
      const spec = ITEM_LISTS.expiring_certs;
      for (const item of items) {
        const locals = Object.fromEntries(Object.entries(spec.fields).map(([v, f]) => [v, item[f] ?? null]));
        const pr = priorityOf(text(ctx, p.priority, locals));
        drafts.push({ title: text(ctx, p.title, locals) as string, ...pr, description: text(ctx, p.description, locals), dedupeKey: spec.key(item) });
      }
    } else {
      const pr = priorityOf(p.priority);
      drafts.push({ title: p.title, ...pr, description: p.description, dedupeKey: `${ctx.incidentId}|${p.title}` });
    }
    // Every draft validated before the first ticket is opened.
    const tickets = requireTarget<TicketOps>(ctx, 'tickets', 'create_ticket');
    const opened: { id: string; url?: string; created: boolean; title: string; priority: string; note?: string }[] = [];
    for (const d of drafts) {
      const t = await tickets.create({ title: d.title, priority: d.priority, description: d.description, assignee: p.assignee, incidentId: ctx.incidentId, dedupeKey: d.dedupeKey });
      opened.push({ ...t, title: d.title, priority: d.priority, ...(d.note ? { note: d.note } : {}) });
    }
    const line = (o: (typeof opened)[number]) => `${o.created ? 'ticket' : 'already open:'} ${o.id} (${o.priority}): ${o.title}${o.note ? ` [${o.note}]` : ''}`;
    const first = opened[0];
    return {
      summary: opened.length === 0 ? 'no item to ticket' : opened.length === 1 ? line(first!) : `${opened.filter((o) => o.created).length} ticket(s) opened, ${opened.filter((o) => !o.created).length} already open in ${tickets.name}: ${opened.map(line).join('; ')}`,
      after: { tickets: opened },
      outputs: { ticket_id: first?.id ?? null, ticket_url: first?.url ?? null, ticket_ids: opened.map((o) => o.id) },
    };
  },
});
