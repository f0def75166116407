/** `${Fn_investigate}`: the investigation's read-only checks and its conclusion (lib/runtime/investigate.ts). */
import { concludeIncidentInvestigation, investigationCheck } from '../investigate';
import type { CoreOps } from './deps';

/** `${Fn_investigate}`'s operations by `op`. */
export const INVESTIGATE_OPS: CoreOps = { check: investigationCheck, conclude: concludeIncidentInvestigation };
