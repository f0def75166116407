/**
 * blacklisted-parameters: parameters that name a §3.1 blacklisted operation — an endpoint, a
 * configuration key, a feature flag or a SQL table matching a category's patterns — never run.
 * Endpoints are matched in normal form (decoded path, service identity), so another spelling of
 * the same path cannot slip past; their decoded query and the request body are matched too, each
 * key and string as a path segment after the endpoint (`?op=%68alt` is `.../halt`).
 */
import { EndpointError, requestTexts, type NormalEndpoint } from '../endpoints';
import { isTemplated, stringsOf } from '../step';
import type { BlacklistHit } from '../types';
import { defineRule, type Finding } from './rule';

const FIX = 'remove the step or the parameter; the agent never executes a blacklisted operation, with or without approval (playbooks/policy.yaml)';

export const rule = defineRule({
  id: 'blacklisted-parameters',
  description: 'Endpoints, configuration keys, feature flags and SQL tables matching a blacklist category are refused.',
  phases: ['compile', 'runtime'],
  check(step, policy, _phase, finding) {
    const roles = step.action.roles ?? {};
    const out: Finding[] = [];
    const hit = (field: (string | number)[], hits: BlacklistHit[]) => {
      for (const h of hits) out.push(finding({ effect: 'refuse', field, category: h.category, message: `blacklisted operation, category ${h.category}: ${h.reason}`, fix: FIX }));
    };
    let called: NormalEndpoint | undefined;
    for (const param of roles.endpoints ?? []) {
      const value = step.params[param];
      if (typeof value !== 'string' || isTemplated(value)) continue;
      let forms = [value];
      try {
        const normal = policy.normaliseEndpoint(value);
        called ??= normal;
        // The query changes what an endpoint does (`?op=halt`): its decoded keys and values too.
        forms = [`${normal.host}:${normal.port}${normal.path}`, normal.key, ...requestTexts(normal, undefined)];
      } catch (err) {
        if (!(err instanceof EndpointError)) throw err; // endpoint-allow-list refuses it
      }
      const seen = new Set<string>();
      const hits = forms.flatMap((f) => policy.classify('endpoints', f).map((h) => (f === value ? h : { ...h, reason: `${h.reason} (written "${value}")` })));
      hit(['params', param], hits.filter((h) => !seen.has(h.category) && seen.add(h.category)));
    }
    for (const param of roles.bodies ?? []) {
      const body = step.params[param]; // an absent or null body has no texts
      let texts: string[];
      try {
        texts = requestTexts(called && { ...called, query: [] }, body);
      } catch (err) {
        if (!(err instanceof EndpointError)) throw err;
        out.push(finding({ effect: 'refuse', field: ['params', param], message: err.message, fix: 'send a flat request body' }));
        continue;
      }
      const seen = new Set<string>();
      const hits = texts.flatMap((t) => policy.classify('endpoints', t).map((h) => ({ ...h, reason: `${h.reason} (in the request body)` })));
      hit(['params', param], hits.filter((h) => !seen.has(h.category) && seen.add(h.category)));
    }
    if (roles.configKeys) {
      let keys: string[] = [];
      try {
        keys = roles.configKeys(step.params);
      } catch {
        keys = []; // parameter-caps reports an unreadable config
      }
      for (const key of keys) if (!isTemplated(key)) hit(['params'], policy.classify('config_keys', key));
    }
    for (const param of [...(roles.flagsOff ?? []), ...(roles.flagsOn ?? [])]) {
      stringsOf(step.params[param]).forEach((flag, i) => {
        if (!isTemplated(flag)) hit(['params', param, i], policy.classify('feature_flags', flag));
      });
    }
    for (const param of roles.sql ?? []) {
      const sql = step.params[param];
      // Without a parser the statement cannot be read at all: sql-read-only refuses it.
      if (typeof sql !== 'string' || isTemplated(sql) || !roles.sqlAnalysis) continue;
      for (const t of roles.sqlAnalysis.analyseSql(sql).tables) {
        const seen = new Set<string>();
        hit(['params', param], [...policy.classify('sql_tables', t.table), ...(t.db ? policy.classify('sql_tables', `${t.db}.${t.table}`) : [])].filter((h) => !seen.has(h.category) && seen.add(h.category)));
      }
    }
    return out;
  },
});
