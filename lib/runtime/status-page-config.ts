/**
 * Configuration of the public status page: which user-facing features each service's incident
 * touches (`playbooks/status-page.yaml`), and where approved notices go (Atlassian Statuspage,
 * a webhook, or nowhere: the war room posts them by hand).
 *
 * Environment (local and Lambda alike):
 * - `SRE_AGENT_STATUSPAGE_PAGE_ID` with `SRE_AGENT_STATUSPAGE_API_KEY` (a value, locally) or
 *   `SRE_AGENT_STATUSPAGE_API_KEY_SECRET` (a Secrets Manager id, in AWS): Atlassian Statuspage;
 * - `SRE_AGENT_STATUS_WEBHOOK_URL`: a webhook that receives each notice as JSON.
 */
import * as z from '../yaml/zod';
import { readSecret, type Secret, type SecretReader } from '../notify/secrets';
import { AtlassianStatuspage, WebhookStatusPage, type StatusPagePublisher } from '../notify/status-page';
import { PlaybookError, problemAt, type ConfigSource } from '../yaml';
import type { StatusComponentMap } from './status-notice';

const componentName = z.string().check(z.minLength(1), z.maxLength(100));

const componentSchema = z.strictObject({
  zh: componentName,
  en: componentName,
  /** Statuspage component id. */
  id: z.optional(z.string().check(z.regex(/^[a-z0-9]{6,32}$/, 'a Statuspage component id is 6-32 lowercase letters and digits'))),
});

const SERVICE_NAME = /^[a-z][a-z0-9-]{0,62}$/;

const fileSchema = z.strictObject({
  components: z.record(z.string(), z.array(componentSchema).check(z.minLength(1))),
});

/**
 * Validates the component map (status-page.yaml read by lib/runtime/status-page-file.ts, or its
 * copy compiled to JSON in a Lambda).
 *
 * @throws PlaybookError naming file, position and field of every problem
 */
export function statusComponentsFromSource(src: ConfigSource): StatusComponentMap {
  const result = fileSchema.safeParse(src.value ?? {});
  const problems = result.success ? [] : result.error.issues.map((issue) => problemAt(src, issue.path as (string | number)[], issue.message));
  const names = Object.keys((src.value as { components?: Record<string, unknown> } | null)?.components ?? {});
  for (const name of names) {
    if (!SERVICE_NAME.test(name)) problems.push(problemAt(src, ['components', name], `"${name}" is not a service name (lowercase kebab-case, as in services.yaml)`));
  }
  if (problems.length > 0 || !result.success) throw new PlaybookError(problems);
  return result.data.components;
}

/** A status page whose API key is read when a notice goes out (Secrets Manager in AWS). */
function lazyAtlassian(pageId: string, apiKey: Secret, secrets: SecretReader | undefined): StatusPagePublisher {
  return {
    name: `statuspage:${pageId}`,
    publish: async (notice, previous) => {
      const key = await readSecret(apiKey, secrets);
      if (!key) throw new StatusPageConfigError(`status page ${pageId}: its API key is not set (SRE_AGENT_STATUSPAGE_API_KEY or _SECRET)`);
      return new AtlassianStatuspage({ pageId, apiKey: key }).publish(notice, previous);
    },
  };
}

export class StatusPageConfigError extends Error {
  override readonly name = 'StatusPageConfigError';
}

/** The publisher the environment configures, if any. @throws StatusPageConfigError on a half configuration */
export function statusPublisherFromEnv(env: NodeJS.ProcessEnv = process.env, secrets?: SecretReader): StatusPagePublisher | undefined {
  const pageId = env.SRE_AGENT_STATUSPAGE_PAGE_ID;
  if (pageId) {
    const apiKey: Secret | undefined = env.SRE_AGENT_STATUSPAGE_API_KEY_SECRET ? { secretId: env.SRE_AGENT_STATUSPAGE_API_KEY_SECRET } : env.SRE_AGENT_STATUSPAGE_API_KEY ? { value: env.SRE_AGENT_STATUSPAGE_API_KEY } : undefined;
    if (!apiKey) throw new StatusPageConfigError('SRE_AGENT_STATUSPAGE_PAGE_ID is set without SRE_AGENT_STATUSPAGE_API_KEY or SRE_AGENT_STATUSPAGE_API_KEY_SECRET');
    return lazyAtlassian(pageId, apiKey, secrets);
  }
  if (env.SRE_AGENT_STATUS_WEBHOOK_URL) return new WebhookStatusPage({ url: env.SRE_AGENT_STATUS_WEBHOOK_URL });
  return undefined;
}
