/**
 * The action registry: every action the playbooks may name, one module each. The loader,
 * compiler, runtime guard, CDK stack and docs read it from here. Adding an action = adding its
 * file and one line below (a test checks that every file is listed under its own name).
 */
import type { ActionDefinition } from './define';
import { action as api_call } from './api_call';
import { action as check_certificates } from './check_certificates';
import { action as collect_thread_dump_and_metrics } from './collect_thread_dump_and_metrics';
import { action as create_ticket } from './create_ticket';
import { action as dns_failover } from './dns_failover';
import { action as elasticache_modify } from './elasticache_modify';
import { action as feature_flags } from './feature_flags';
import { action as kafka_admin } from './kafka_admin';
import { action as kubectl_exec } from './kubectl_exec';
import { action as kubectl_patch } from './kubectl_patch';
import { action as kubectl_rollout_undo } from './kubectl_rollout_undo';
import { action as kubectl_scale } from './kubectl_scale';
import { action as patch_hpa_max } from './patch_hpa_max';
import { action as pause_trading_pair } from './pause_trading_pair';
import { action as rds_failover } from './rds_failover';
import { action as rds_parameter_change } from './rds_parameter_change';
import { action as rds_query } from './rds_query';
import { action as redis_analysis } from './redis_analysis';
import { action as redis_command } from './redis_command';
import { action as rolling_restart } from './rolling_restart';
import { action as send_alert } from './send_alert';
import { action as update_config } from './update_config';
import { action as wallet_transfer } from './wallet_transfer';

type AnyAction = ActionDefinition<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Every registered action by name. */
export const ACTIONS: Readonly<Record<string, AnyAction>> = Object.freeze({
  api_call,
  check_certificates,
  collect_thread_dump_and_metrics,
  create_ticket,
  dns_failover,
  elasticache_modify,
  feature_flags,
  kafka_admin,
  kubectl_exec,
  kubectl_patch,
  kubectl_rollout_undo,
  kubectl_scale,
  patch_hpa_max,
  pause_trading_pair,
  rds_failover,
  rds_parameter_change,
  rds_query,
  redis_analysis,
  redis_command,
  rolling_restart,
  send_alert,
  update_config,
  wallet_transfer,
});

export function findAction(name: string): AnyAction | undefined {
  return Object.prototype.hasOwnProperty.call(ACTIONS, name) ? ACTIONS[name] : undefined;
}

export type { ActionContext, ActionDefinition, ActionKind, ActionResult, ActionTargets, TargetRef } from './define';
export { defineAction } from './define';
export * from './errors';
