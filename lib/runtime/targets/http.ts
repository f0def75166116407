/** The `http` target: admin HTTP endpoints inside the cluster, when ADMIN_HTTP is `on`. */
import { FetchHttp } from '../../actions/http/fetch-ops';
import type { TargetFactory } from './types';

export const httpTarget: TargetFactory = async ({ env }) => (env.ADMIN_HTTP === 'on' ? new FetchHttp() : undefined);
