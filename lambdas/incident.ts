/** incident Lambda (`${Fn_incident}` in the compiled machines): incident start, step records, resolve/close. Wiring only; the logic is lib/runtime/core/incident.ts. */
import { INCIDENT_OPS } from '../lib/runtime/core/incident';
import { coreHandler } from '../lib/runtime/core-handler';

export const handler = coreHandler('Fn_incident', INCIDENT_OPS);
