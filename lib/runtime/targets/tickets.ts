/**
 * The `tickets` target: tickets are always kept with the incident; Jira Cloud (JIRA_BASE_URL,
 * JIRA_PROJECT, secret `<prefix>jira` = {"email","apiToken"}) or TICKET_WEBHOOK_URL receive them
 * when configured.
 */
import { readSecret, secretsManagerReader } from '../../notify/secrets';
import { TicketDesk } from '../../actions/tickets/desk';
import { JiraTickets, jiraCredentials, WebhookTickets } from '../../actions/tickets/http-backends';
import { awsData } from '../aws';
import type { TargetFactory } from './types';

async function ticketBackend(env: NodeJS.ProcessEnv) {
  if (env.JIRA_BASE_URL && env.JIRA_PROJECT) {
    const secretId = `${env.SECRETS_PREFIX ?? 'sre-agent/'}jira`;
    const raw = await readSecret({ secretId }, secretsManagerReader(new (await import('@aws-sdk/client-secrets-manager')).SecretsManagerClient({})));
    return new JiraTickets({ baseUrl: env.JIRA_BASE_URL, projectKey: env.JIRA_PROJECT, ...jiraCredentials(raw, secretId) });
  }
  return env.TICKET_WEBHOOK_URL ? new WebhookTickets({ url: env.TICKET_WEBHOOK_URL }) : undefined;
}

export const ticketsTarget: TargetFactory = async ({ env }) => {
  const { doc, tables } = awsData(env);
  return new TicketDesk({ doc, table: tables.incidents, backend: await ticketBackend(env) });
};
