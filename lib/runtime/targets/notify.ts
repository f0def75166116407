/** The `notify` target: send_alert's channels, the function's notifier; every outcome also lands on the incident's timeline. */
import { notifyOpsFor } from '../../notify';
import { awsCoreDeps, awsNotifying } from '../aws';
import { recordOutcomes } from '../notifications';
import type { TargetFactory } from './types';

export const notifyTarget: TargetFactory = async ({ env }) => notifyOpsFor(awsNotifying(env).notifier, { onOutcomes: (n, outcomes) => recordOutcomes(awsCoreDeps(env), n, outcomes) });
