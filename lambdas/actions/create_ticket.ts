/** create_ticket's Lambda (lib/actions/create_ticket.ts) with the targets it declares: tickets. Wiring only. */
import { action } from '../../lib/actions/create_ticket';
import { actionLambda } from '../../lib/runtime/action-lambda';
import { ticketsTarget } from '../../lib/runtime/targets/tickets';

export const handler = actionLambda(action, { tickets: ticketsTarget });
