/**
 * The API server's validation of the kinds the sandbox stores, for the rules an SRE action can
 * trip (k8s.io/kubernetes/pkg/apis/apps/validation, core/validation, autoscaling/validation):
 * a failing write is a 422 Invalid naming each field, and dryRun=All runs the same checks.
 */
import { isQuantity, parseQuantity } from '../../actions/quantity';
import { invalid, type FieldError } from './errors';
import type { KubeObject } from './store';

const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function intOrPercent(value: unknown): boolean {
  return (typeof value === 'number' && Number.isInteger(value) && value >= 0) || (typeof value === 'string' && /^\d+%$/.test(value));
}

function isZero(value: unknown): boolean {
  return value === 0 || value === '0%';
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function validateContainers(containers: any, path: string, errors: FieldError[]): void {
  if (!Array.isArray(containers) || containers.length === 0) {
    errors.push({ field: path, type: 'FieldValueRequired', detail: '' });
    return;
  }
  const names = new Set<string>();
  containers.forEach((c, i) => {
    const at = `${path}[${i}]`;
    if (!c || typeof c.name !== 'string' || !DNS1123.test(c.name)) errors.push({ field: `${at}.name`, type: c?.name ? 'FieldValueInvalid' : 'FieldValueRequired', value: c?.name, detail: c?.name ? "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'" : '' });
    else if (names.has(c.name)) errors.push({ field: `${at}.name`, type: 'FieldValueDuplicate', value: c.name, detail: '' });
    else names.add(c.name);
    if (!c?.image) errors.push({ field: `${at}.image`, type: 'FieldValueRequired', detail: '' });
    const res = c?.resources ?? {};
    for (const kind of ['limits', 'requests'] as const) {
      for (const [name, q] of Object.entries((res[kind] ?? {}) as Record<string, unknown>)) {
        if (typeof q !== 'string' && typeof q !== 'number') {
          errors.push({ field: `${at}.resources.${kind}[${name}]`, type: 'FieldValueInvalid', value: q, detail: 'must be a quantity' });
        } else if (typeof q === 'string' && !isQuantity(q)) {
          errors.push({ field: `${at}.resources.${kind}[${name}]`, type: 'FieldValueInvalid', value: q, detail: "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'" });
        } else if (parseQuantity(q) < 0) {
          errors.push({ field: `${at}.resources.${kind}[${name}]`, type: 'FieldValueInvalid', value: q, detail: 'must be greater than or equal to 0' });
        }
      }
    }
    for (const name of ['cpu', 'memory']) {
      const lim = res.limits?.[name];
      const req = res.requests?.[name];
      if (lim === undefined || req === undefined || !isQuantity(String(lim)) || !isQuantity(String(req))) continue;
      if (parseQuantity(req) > parseQuantity(lim)) errors.push({ field: `${at}.resources.requests`, type: 'FieldValueInvalid', value: String(req), detail: `must be less than or equal to ${name} limit of ${lim}` });
    }
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function validateDeployment(d: KubeObject, old: KubeObject | undefined): FieldError[] {
  const errors: FieldError[] = [];
  const spec = d.spec ?? {};
  if (spec.replicas !== undefined && (!Number.isInteger(spec.replicas) || spec.replicas < 0)) errors.push({ field: 'spec.replicas', type: 'FieldValueInvalid', value: spec.replicas, detail: 'must be greater than or equal to 0' });
  const selector = spec.selector?.matchLabels as Record<string, string> | undefined;
  const labels = (spec.template?.metadata?.labels ?? {}) as Record<string, string>;
  if (!selector || Object.keys(selector).length === 0) errors.push({ field: 'spec.selector', type: 'FieldValueRequired', detail: '' });
  else if (Object.entries(selector).some(([k, v]) => labels[k] !== v)) errors.push({ field: 'spec.template.metadata.labels', type: 'FieldValueInvalid', value: labels, detail: '`selector` does not match template `labels`' });
  if (old && JSON.stringify(old.spec?.selector) !== JSON.stringify(spec.selector)) errors.push({ field: 'spec.selector', type: 'FieldValueInvalid', value: spec.selector, detail: 'field is immutable' });
  validateContainers(spec.template?.spec?.containers, 'spec.template.spec.containers', errors);
  const strategy = spec.strategy ?? {};
  if (strategy.type !== undefined && strategy.type !== 'RollingUpdate' && strategy.type !== 'Recreate') errors.push({ field: 'spec.strategy.type', type: 'FieldValueNotSupported', value: strategy.type, detail: 'supported values: "Recreate", "RollingUpdate"' });
  const ru = strategy.rollingUpdate;
  if (ru) {
    if (ru.maxSurge !== undefined && !intOrPercent(ru.maxSurge)) errors.push({ field: 'spec.strategy.rollingUpdate.maxSurge', type: 'FieldValueInvalid', value: ru.maxSurge, detail: 'must be an integer or percentage (e.g \'5%\')' });
    if (ru.maxUnavailable !== undefined && !intOrPercent(ru.maxUnavailable)) errors.push({ field: 'spec.strategy.rollingUpdate.maxUnavailable', type: 'FieldValueInvalid', value: ru.maxUnavailable, detail: 'must be an integer or percentage (e.g \'5%\')' });
    if (isZero(ru.maxSurge ?? '25%') && isZero(ru.maxUnavailable ?? '25%')) errors.push({ field: 'spec.strategy.rollingUpdate.maxUnavailable', type: 'FieldValueInvalid', value: ru.maxUnavailable ?? 0, detail: 'may not be 0 when `maxSurge` is 0' });
  }
  return errors;
}

function validateHpa(h: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const spec = h.spec ?? {};
  const min = spec.minReplicas ?? 1;
  if (!Number.isInteger(spec.maxReplicas) || spec.maxReplicas < 1) errors.push({ field: 'spec.maxReplicas', type: 'FieldValueInvalid', value: spec.maxReplicas, detail: 'must be greater than or equal to 1' });
  else if (spec.maxReplicas < min) errors.push({ field: 'spec.maxReplicas', type: 'FieldValueInvalid', value: spec.maxReplicas, detail: 'must be greater than or equal to `minReplicas`' });
  if (!Number.isInteger(min) || min < 1) errors.push({ field: 'spec.minReplicas', type: 'FieldValueInvalid', value: min, detail: 'must be greater than or equal to 1' });
  if (!spec.scaleTargetRef?.kind || !spec.scaleTargetRef?.name) errors.push({ field: 'spec.scaleTargetRef', type: 'FieldValueRequired', detail: '' });
  return errors;
}

const GROUP_OF: Readonly<Record<string, string>> = { Deployment: 'apps', ReplicaSet: 'apps', HorizontalPodAutoscaler: 'autoscaling' };

/**
 * @throws SandboxApiError 422 listing every invalid field
 */
export function validateObject(obj: KubeObject, old?: KubeObject): void {
  let errors: FieldError[] = [];
  if (!obj.metadata?.name) errors.push({ field: 'metadata.name', type: 'FieldValueRequired', detail: 'name or generateName is required' });
  if (old && obj.metadata.name !== old.metadata.name) errors.push({ field: 'metadata.name', type: 'FieldValueInvalid', value: obj.metadata.name, detail: 'field is immutable' });
  if (obj.kind === 'Deployment') errors = errors.concat(validateDeployment(obj, old));
  if (obj.kind === 'HorizontalPodAutoscaler') errors = errors.concat(validateHpa(obj));
  if (obj.kind === 'Pod' && old && JSON.stringify(obj.spec?.containers?.map((c: { resources?: unknown }) => c.resources)) !== JSON.stringify(old.spec?.containers?.map((c: { resources?: unknown }) => c.resources))) {
    errors.push({ field: 'spec', type: 'FieldValueForbidden', detail: 'pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations) or `spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)' });
  }
  if (errors.length) throw invalid(obj.kind, GROUP_OF[obj.kind] ?? '', obj.metadata?.name ?? '', errors);
}

/** The Scale subresource's rule. */
export function validateScale(name: string, replicas: unknown): void {
  if (!Number.isInteger(replicas) || (replicas as number) < 0) throw invalid('Scale', 'autoscaling', name, [{ field: 'spec.replicas', type: 'FieldValueInvalid', value: replicas, detail: 'must be greater than or equal to 0' }]);
}
