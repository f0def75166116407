/**
 * The `tickets` target: tickets are always kept with the incident; Jira Cloud (JIRA_BASE_URL,
 * JIRA_PROJECT, secret `<prefix>jira` = {"email","apiToken"}) or TICKET_WEBHOOK_URL receive them
 * when configured.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { readSecret, secretsManagerReader } from '../../approval/secrets';
import { TicketDesk } from '../../actions/tickets/desk';
import { JiraTickets, WebhookTickets } from '../../actions/tickets/http-backends';
import { awsData } from '../aws';
import type { TargetFactory } from './types';

async function ticketBackend(env: NodeJS.ProcessEnv) {
  if (env.JIRA_BASE_URL && env.JIRA_PROJECT) {
    const secret = JSON.parse((await readSecret({ secretId: `${env.SECRETS_PREFIX ?? 'sre-agent/'}jira` }, secretsManagerReader(new SecretsManagerClient({})))) ?? '{}') as { email: string; apiToken: string };
    return new JiraTickets({ baseUrl: env.JIRA_BASE_URL, projectKey: env.JIRA_PROJECT, email: secret.email, apiToken: secret.apiToken });
  }
  return env.TICKET_WEBHOOK_URL ? new WebhookTickets({ url: env.TICKET_WEBHOOK_URL }) : undefined;
}

export const ticketsTarget: TargetFactory = async ({ env }) => {
  const { doc, tables } = awsData(env);
  return new TicketDesk({ doc, table: tables.incidents, backend: await ticketBackend(env) });
};
