/** create_ticket: open a follow-up ticket (scenarios 6 and 7). */
import { z } from 'zod';
import { requireTarget } from './common';
import { defineAction } from './define';
import { actionHandler } from './handler';
import { InvalidParameterError } from './errors';
import type { TicketOps } from './ports';

const PRIORITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];

export const action = defineAction({
  name: 'create_ticket',
  description: 'Create a ticket with a title, priority (may be a {{template}}), description and assignee.',
  kind: 'ticket',
  mutates: false,
  defaultRisk: 'LOW',
  params: z.strictObject({
    title: z.string().min(1),
    priority: z.string().min(1),
    description: z.string().optional(),
    assignee: z.string().optional(),
  }),
  outputs: ['ticket_id', 'ticket_url'],
  iamActions: ['secretsmanager:GetSecretValue'],
  checkCaps(p) {
    return p.priority.includes('{{') || PRIORITIES.includes(p.priority) ? [] : [`priority "${p.priority}" is not one of ${PRIORITIES.join(', ')}`];
  },
  async run(p, ctx) {
    if (!PRIORITIES.includes(p.priority)) throw new InvalidParameterError(`create_ticket: priority resolved to "${p.priority}", not one of ${PRIORITIES.join(', ')}`);
    const tickets = requireTarget<TicketOps>(ctx, 'tickets', 'create_ticket');
    const t = await tickets.create({ title: p.title, priority: p.priority, description: p.description, assignee: p.assignee, incidentId: ctx.incidentId });
    return { summary: `ticket ${t.id} (${p.priority}): ${p.title}`, outputs: { ticket_id: t.id, ticket_url: t.url ?? null } };
  },
});

/** The Lambda entry point of this action (lib/infra points its function here). */
export const handler = actionHandler(action);
